"""Domain errors, each carrying its google.rpc code.

HTTP statuses live in wire/status.py: a domain error knows which rpc code it is,
never how a transport spells it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class RpcCode(IntEnum):
    """google.rpc.Code values (google/rpc/code.proto)."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of a request: a snake_case path relative to the resource, and why."""

    field: str
    description: str


class ApiError(Exception):
    """An error that reaches the client as a google.rpc.Status."""

    code: RpcCode = RpcCode.UNKNOWN

    def __init__(self, message: str, violations: tuple[FieldViolation, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.violations = violations


class InvalidArgument(ApiError):
    code = RpcCode.INVALID_ARGUMENT

    @classmethod
    def from_violations(cls, violations: list[FieldViolation]) -> InvalidArgument:
        """Vertex's 'List of found errors' form: numbered, tab separated, one per field."""
        parts = [f"{i}.Field: {v.field}; Message: {v.description}" for i, v in enumerate(violations, 1)]
        return cls("List of found errors:\t" + "\t".join(parts) + "\t", tuple(violations))


class NotFound(ApiError):
    code = RpcCode.NOT_FOUND


class AlreadyExists(ApiError):
    code = RpcCode.ALREADY_EXISTS


class FailedPrecondition(ApiError):
    code = RpcCode.FAILED_PRECONDITION


class Internal(ApiError):
    code = RpcCode.INTERNAL


class Unimplemented(ApiError):
    code = RpcCode.UNIMPLEMENTED


class Unavailable(ApiError):
    """Retry elsewhere or later: e.g. the server is draining before it exits."""

    code = RpcCode.UNAVAILABLE


class Unauthenticated(ApiError):
    """No credentials, or credentials this server does not accept (HTTP 401)."""

    code = RpcCode.UNAUTHENTICATED


class PermissionDenied(ApiError):
    """An authenticated caller lacks the permission on the resource (HTTP 403)."""

    code = RpcCode.PERMISSION_DENIED
