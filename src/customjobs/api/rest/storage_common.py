"""What the Cloud Storage handlers share: the error envelope, query and body parsing, spooling.

Errors use Cloud Storage's own envelope (wire/storage.py), not Vertex's google.rpc one.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from customjobs.api.rest.common import Handler, call
from customjobs.storage.errors import InvalidRequest, StorageError
from customjobs.storage.objects import LocalBuckets
from customjobs.wire import storage as wire

log = logging.getLogger(__name__)

SPOOL_FLUSH_BYTES = 1024 * 1024


class ObjectNotFoundPath(StorageError):
    """A path no storage route serves (Cloud Storage answers 404 notFound)."""

    http_status = 404
    reason = "notFound"


def storage_error_response(error: StorageError) -> JSONResponse:
    status, body = wire.error_body(error)
    return JSONResponse(body, status_code=status)


def guarded(handler: Handler) -> Handler:
    """Storage errors in Cloud Storage's envelope; anything else a 500 without a traceback."""

    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except StorageError as exc:
            status, body = wire.error_body(exc)
            return JSONResponse(body, status_code=status)
        except Exception:
            log.exception("%s %s failed", request.method, request.url.path)
            error = StorageError("Internal error encountered.")
            error.http_status, error.reason = 500, "backendError"
            status, body = wire.error_body(error)
            return JSONResponse(body, status_code=status)

    return wrapper


async def spool(request: Request, buckets: LocalBuckets) -> Path:
    """The request body, written to a temp file beside the buckets in 1 MiB writes."""
    temp = await call(buckets.temp_file)
    try:
        with open(temp, "wb") as f:
            pending = bytearray()
            async for chunk in request.stream():
                pending += chunk
                if len(pending) >= SPOOL_FLUSH_BYTES:
                    await call(f.write, bytes(pending))
                    pending.clear()
            if pending:
                await call(f.write, bytes(pending))
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    with contextlib.suppress(ValueError, RecursionError):
        body = await request.json()
        if isinstance(body, dict):
            return body
    raise InvalidRequest("The request body is not a JSON object.")


def name_param(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidRequest("Object name is required.")
    return name


def int_param(value: str | None, field: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidRequest(f"Invalid value for {field}: {value}") from None


def read_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(SPOOL_FLUSH_BYTES):
            yield chunk
