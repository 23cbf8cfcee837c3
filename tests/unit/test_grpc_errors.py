"""gRPC error mapping: rich statuses for domain errors, a bare INTERNAL for anything else."""

from __future__ import annotations

import logging
from typing import Any, NoReturn

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from customjobs.api.grpc.errors import guarded
from customjobs.errors import FieldViolation, InvalidArgument, NotFound, RpcCode
from customjobs.wire.status import details


class Aborted(Exception):
    pass


class FakeContext:
    def __init__(self) -> None:
        self.status: Any = None

    def abort_with_status(self, status: Any) -> NoReturn:
        self.status = status
        raise Aborted


def fail_with(exc: Exception) -> FakeContext:
    def fn(_: object) -> None:
        raise exc

    context = FakeContext()
    with pytest.raises(Aborted):
        guarded("/svc/Method", fn)(object(), context)
    return context


def sent_status(context: FakeContext) -> status_pb2.Status:
    """The google.rpc.Status the client decodes from the trailing metadata."""
    (key, value), *_ = context.status.trailing_metadata
    assert key == "grpc-status-details-bin"
    return status_pb2.Status.FromString(value)


def test_every_rpc_code_is_the_grpc_status_code_of_the_same_name_and_number() -> None:
    for code in RpcCode:
        assert grpc.StatusCode[code.name].value[0] == code


def test_invalid_argument_carries_the_field_violations_rest_sends() -> None:
    error = InvalidArgument.from_violations([FieldViolation("display_name", "Required field is not set.")])
    context = fail_with(error)
    assert context.status.code is grpc.StatusCode.INVALID_ARGUMENT
    assert context.status.details == error.message
    status = sent_status(context)
    assert (status.code, status.message) == (3, error.message)
    bad_request = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad_request)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("display_name", "Required field is not set.")
    ]
    assert details(error)[0]["fieldViolations"] == [
        {"field": "display_name", "description": "Required field is not set."}
    ]


def test_not_found_has_no_details() -> None:
    context = fail_with(NotFound("gone"))
    assert context.status.code is grpc.StatusCode.NOT_FOUND
    assert list(sent_status(context).details) == []


def test_unexpected_errors_are_internal_and_the_traceback_is_only_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        context = fail_with(ZeroDivisionError("secret detail"))
    assert context.status.code is grpc.StatusCode.INTERNAL
    assert context.status.details == "Internal error encountered."
    assert "secret detail" not in sent_status(context).SerializeToString().decode("latin-1")
    assert "ZeroDivisionError: secret detail" in caplog.text
    assert "/svc/Method" in caplog.text


def test_success_passes_the_response_through() -> None:
    assert guarded("/svc/M", lambda request: request * 2)(21, FakeContext()) == 42


def test_status_round_trips_through_grpcio_status() -> None:
    status = sent_status(fail_with(NotFound("gone")))
    assert rpc_status.to_status(status).code is grpc.StatusCode.NOT_FOUND
