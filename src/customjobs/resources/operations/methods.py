"""google.longrunning.Operations at the level of protobuf messages, for REST and gRPC alike."""

from __future__ import annotations

from google.longrunning import operations_pb2

from customjobs import names
from customjobs.errors import InvalidArgument
from customjobs.resources.base import ResourceMethods
from customjobs.wire import paging
from customjobs.wire.limits import check_list_request
from customjobs.wire.operations import operation_message


class OperationMethods(ResourceMethods):
    def get_operation(self, name: str) -> operations_pb2.Operation:
        ref = names.parse_operation_name(name)
        self._require("GetOperation", ref.parent)
        return operation_message(self.rt.operations.get(ref.parent, ref.op_id, ref.job_id))

    def wait_operation(self, name: str) -> operations_pb2.Operation:
        # Every operation this server starts is done when it is returned, so waiting is a get.
        return self.get_operation(name)

    def cancel_operation(self, name: str) -> None:
        ref = names.parse_operation_name(name)
        self._require("CancelOperation", ref.parent)
        self.rt.operations.cancel(ref.parent, ref.op_id, ref.job_id)

    def delete_operation(self, name: str) -> None:
        ref = names.parse_operation_name(name)
        self._require("DeleteOperation", ref.parent)
        self.rt.operations.delete(ref.parent, ref.op_id, ref.job_id)

    def list_operations(
        self, name: str, filter_text: str, page_size: int, page_token: str
    ) -> operations_pb2.ListOperationsResponse:
        parent, job_id = names.parse_operations_parent(name)
        self._require("ListOperations", parent)
        check_list_request(filter_text, page_token)
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
