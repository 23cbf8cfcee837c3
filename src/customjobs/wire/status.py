"""google.rpc.Status on the wire: the error envelope and THE rpc-code-to-HTTP table.

The Google clients choose their exception class from the HTTP status alone, so this
table is part of the contract (FAILED_PRECONDITION is a 400, as Google sends it).
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from google.protobuf.any_pb2 import Any as AnyPb
from google.rpc import error_details_pb2

from customjobs.errors import ApiError, RpcCode

HTTP_STATUS: dict[RpcCode, int] = {
    RpcCode.OK: 200,
    RpcCode.CANCELLED: 499,
    RpcCode.UNKNOWN: 500,
    RpcCode.INVALID_ARGUMENT: 400,
    RpcCode.DEADLINE_EXCEEDED: 504,
    RpcCode.NOT_FOUND: 404,
    RpcCode.ALREADY_EXISTS: 409,
    RpcCode.PERMISSION_DENIED: 403,
    RpcCode.RESOURCE_EXHAUSTED: 429,
    RpcCode.FAILED_PRECONDITION: 400,
    RpcCode.ABORTED: 409,
    RpcCode.OUT_OF_RANGE: 400,
    RpcCode.UNIMPLEMENTED: 501,
    RpcCode.INTERNAL: 500,
    RpcCode.UNAVAILABLE: 503,
    RpcCode.DATA_LOSS: 500,
    RpcCode.UNAUTHENTICATED: 401,
}


def packed_details(error: ApiError) -> list[AnyPb]:
    """The details of an error as Any messages: a google.rpc.BadRequest when fields were named.

    REST sends them as JSON (details below), gRPC inside the binary google.rpc.Status.
    """
    if not error.violations:
        return []
    bad_request = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in error.violations
        ]
    )
    packed = AnyPb()
    packed.Pack(bad_request)
    return [packed]


def details(error: ApiError) -> list[dict[str, Any]]:
    """The Any-packed details of an error as proto JSON, for REST's error envelope."""
    return [json_format.MessageToDict(packed) for packed in packed_details(error)]


def error_body(error: ApiError) -> tuple[int, dict[str, Any]]:
    """HTTP status and JSON body of Google's error envelope for a domain error."""
    http = HTTP_STATUS[error.code]
    body: dict[str, Any] = {"code": http, "message": error.message, "status": error.code.name}
    extra = details(error)
    if extra:
        body["details"] = extra
    return http, {"error": body}


def status_dict(code: int, message: str | None) -> dict[str, Any]:
    """A google.rpc.Status as proto JSON (inside a job's `error` or an Operation)."""
    result: dict[str, Any] = {"code": code}
    if message:
        result["message"] = message
    return result
