"""google.longrunning.Operation on the wire, built from the official messages.

Clients parse operations strictly: only name/metadata/done/error/response, and every
Any's type URL must be one they know, so both are produced by packing real messages.
A delete answers DeleteOperationMetadata and Empty; a model upload answers its own
metadata and an UploadModelResponse (stored as proto JSON when the operation ended).
"""

from __future__ import annotations

from google.longrunning import operations_pb2
from google.protobuf import json_format
from google.protobuf.empty_pb2 import Empty
from google.protobuf.message import Message

from customjobs import names
from customjobs.domain.job import Operation
from customjobs.wire.messages import types_for, types_module

UPLOAD_MODEL = "upload_model"


def _metadata(op: Operation) -> Message:
    if op.kind == UPLOAD_MODEL:
        upload: Message = types_module(op.api_version).UploadModelOperationMetadata.pb()()
        return upload
    delete: Message = types_for(op.api_version).delete_metadata()
    return delete


def _response(op: Operation) -> Message:
    if op.kind == UPLOAD_MODEL:
        response: Message = types_module(op.api_version).UploadModelResponse.pb()()
        json_format.Parse(op.result_json or "{}", response, ignore_unknown_fields=True)
        return response
    return Empty()


def operation_message(op: Operation) -> operations_pb2.Operation:
    metadata = _metadata(op)
    generic = metadata.generic_metadata  # type: ignore[attr-defined]
    generic.create_time.FromMicroseconds(op.create_us)
    generic.update_time.FromMicroseconds(op.update_us)
    message = operations_pb2.Operation(
        name=names.operation_name(op.project, op.location, op.id), done=op.done
    )
    message.metadata.Pack(metadata)
    if op.done:
        if op.error_code is not None:
            message.error.code = op.error_code
            message.error.message = op.error_message or ""
        else:
            message.response.Pack(_response(op))
    return message
