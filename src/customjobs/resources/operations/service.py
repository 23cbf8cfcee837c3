"""google.longrunning.Operations use cases for the operations this server started."""

from __future__ import annotations

from customjobs import names
from customjobs.domain.job import Operation
from customjobs.errors import FailedPrecondition, NotFound
from customjobs.store.base import Cursor, Store


class OperationService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, parent: names.Parent, op_id: int, job_id: int | None = None) -> Operation:
        op = self.store.get_operation(op_id)
        if (
            op is None
            or (op.project, op.location) != (parent.project, parent.location)
            or (job_id is not None and op.job_id != job_id)
        ):
            raise NotFound(
                f'Operation "{names.operation_name(parent.project, parent.location, op_id)}" not found.'
            )
        return op

    def list(
        self, parent: names.Parent, job_id: int | None, page_size: int, after: Cursor | None
    ) -> tuple[list[Operation], Cursor | None]:
        rows = self.store.list_operations(parent.project, parent.location, job_id, page_size + 1, after)
        page = rows[:page_size]
        return page, Cursor(page[-1].create_us, page[-1].id) if len(rows) > page_size else None

    def cancel(self, parent: names.Parent, op_id: int, job_id: int | None = None) -> None:
        op = self.get(parent, op_id, job_id)
        if op.done:
            raise FailedPrecondition(
                f"Operation {names.operation_name(op.project, op.location, op.id)} is not cancellable."
            )

    def delete(self, parent: names.Parent, op_id: int, job_id: int | None = None) -> None:
        self.get(parent, op_id, job_id)
        self.store.delete_operation(op_id)
