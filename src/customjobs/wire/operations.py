"""google.longrunning.Operation on the wire, built from the official messages.

Clients parse operations strictly: only name/metadata/done/error/response, and every
Any's type URL must be one they know, so both are produced by packing real messages.
"""

from __future__ import annotations

from google.longrunning import operations_pb2
from google.protobuf.empty_pb2 import Empty

from customjobs import names
from customjobs.domain.job import Operation
from customjobs.wire.messages import types_for


def operation_message(op: Operation) -> operations_pb2.Operation:
    metadata = types_for(op.api_version).delete_metadata()
    metadata.generic_metadata.create_time.FromMicroseconds(op.create_us)
    metadata.generic_metadata.update_time.FromMicroseconds(op.update_us)
    message = operations_pb2.Operation(
        name=names.operation_name(op.project, op.location, op.id), done=op.done
    )
    message.metadata.Pack(metadata)
    if op.done:
        if op.error_code is not None:
            message.error.code = op.error_code
            message.error.message = op.error_message or ""
        else:
            message.response.Pack(Empty())
    return message
