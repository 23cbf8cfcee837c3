"""The Vertex JobService and Operations methods at the level of protobuf messages.

Both transports call this and nothing else: REST turns JSON into these messages and
back, gRPC receives them as they are. So a rule written here holds on both, and no
logic is copied between the REST and gRPC handlers.
"""

from __future__ import annotations

from google.longrunning import operations_pb2
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.message import Message

from customjobs import names
from customjobs.errors import InvalidArgument
from customjobs.runtime import Runtime
from customjobs.wire import codec, paging
from customjobs.wire.filters import parse_filter
from customjobs.wire.operations import operation_message


class VertexApi:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    def _page_size(self, requested: int) -> int:
        settings = self.rt.settings
        return paging.page_size(requested, settings.default_page_size, settings.max_page_size)

    # JobService --------------------------------------------------------------

    def create_custom_job(self, version: str, parent: str, custom_job: Message) -> Message:
        where = names.parse_parent(parent)
        new = codec.decode_new_job(custom_job, where.project, where.location)
        return codec.job_message(self.rt.jobs.create(new), version)

    def get_custom_job(self, version: str, name: str) -> Message:
        parent, job_id = names.parse_job_name(name)
        return codec.job_message(self.rt.jobs.get(parent, job_id), version)

    def list_custom_jobs(
        self,
        version: str,
        parent: str,
        filter_text: str,
        page_size: int,
        page_token: str,
        read_mask: FieldMask | None,
    ) -> Message:
        where = names.parse_parent(parent)
        mask = codec.checked_read_mask(read_mask, version)
        expr = parse_filter(filter_text)
        bound_to = paging.binding(parent, filter_text)
        after = paging.decode(page_token, bound_to) if page_token else None
        jobs, cursor = self.rt.jobs.list(where, expr, self._page_size(page_size), after)
        next_token = paging.encode(cursor, bound_to) if cursor else ""
        return codec.list_response(jobs, version, next_token, mask)

    def cancel_custom_job(self, name: str) -> None:
        parent, job_id = names.parse_job_name(name)
        self.rt.jobs.cancel(parent, job_id)

    def delete_custom_job(self, version: str, name: str) -> operations_pb2.Operation:
        parent, job_id = names.parse_job_name(name)
        return operation_message(self.rt.jobs.delete(parent, job_id, version))

    # google.longrunning.Operations ------------------------------------------

    def get_operation(self, name: str) -> operations_pb2.Operation:
        ref = names.parse_operation_name(name)
        return operation_message(self.rt.operations.get(ref.parent, ref.op_id, ref.job_id))

    def wait_operation(self, name: str) -> operations_pb2.Operation:
        # Every operation this server starts is done when it is returned, so waiting is a get.
        return self.get_operation(name)

    def cancel_operation(self, name: str) -> None:
        ref = names.parse_operation_name(name)
        self.rt.operations.cancel(ref.parent, ref.op_id, ref.job_id)

    def delete_operation(self, name: str) -> None:
        ref = names.parse_operation_name(name)
        self.rt.operations.delete(ref.parent, ref.op_id, ref.job_id)

    def list_operations(
        self, name: str, filter_text: str, page_size: int, page_token: str
    ) -> operations_pb2.ListOperationsResponse:
        parent, job_id = names.parse_operations_parent(name)
        if filter_text:
            raise InvalidArgument("Filtering operations is not supported by this server; omit filter.")
        bound_to = paging.binding(name, "operations")
        after = paging.decode(page_token, bound_to) if page_token else None
        ops, cursor = self.rt.operations.list(parent, job_id, self._page_size(page_size), after)
        response = operations_pb2.ListOperationsResponse(
            next_page_token=paging.encode(cursor, bound_to) if cursor else ""
        )
        response.operations.extend(operation_message(op) for op in ops)
        return response
