"""How a gRPC handler fails: domain errors become a rich google.rpc.Status, anything else INTERNAL.

The rpc code number is the gRPC status code number, so no table is written here:
grpcio-status's to_status maps google.rpc codes to grpc.StatusCode. The details are the
very Any messages REST puts in its JSON envelope (wire/status.py builds both).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, NoReturn, Protocol, TypeVar

from google.rpc import status_pb2
from grpc_status import rpc_status

from customjobs.errors import ApiError, Internal
from customjobs.wire.status import packed_details

log = logging.getLogger(__name__)

Req = TypeVar("Req")
Resp = TypeVar("Resp")


class AbortingContext(Protocol):
    """The part of grpc.ServicerContext a handler uses (grpc ships no type hints)."""

    def abort_with_status(self, status: Any) -> NoReturn: ...


def status_message(error: ApiError) -> status_pb2.Status:
    """The google.rpc.Status a gRPC client receives for a domain error."""
    return status_pb2.Status(code=int(error.code), message=error.message, details=packed_details(error))


def guarded(method: str, fn: Callable[[Req], Resp]) -> Callable[[Req, AbortingContext], Resp]:
    """A grpc unary handler around fn: errors are sent as statuses, tracebacks only logged."""

    def handler(request: Req, context: AbortingContext) -> Resp:
        try:
            return fn(request)
        except ApiError as exc:
            error = exc
        except Exception:
            log.exception("gRPC %s failed", method)
            error = Internal("Internal error encountered.")
        context.abort_with_status(rpc_status.to_status(status_message(error)))

    return handler
