"""The use cases every controller-run resource shares: get, list, cancel, delete.

A HyperparameterTuningJob and a TrainingPipeline are both rows a controller reconciles
(store/sql/resource_rows.py). Reading them, asking for CANCELLING (the controller stops
what runs and ends the row) and deleting one that has ended work the same for both; only
the names differ, and how a state is spelt (JOB_STATE_X, or PIPELINE_STATE_X).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from customjobs import names
from customjobs.clock import now_us
from customjobs.domain.job import Operation
from customjobs.domain.query import Expr
from customjobs.domain.states import CANCELLABLE, TERMINAL, JobState
from customjobs.errors import FailedPrecondition, NotFound, Unavailable
from customjobs.store.base import Cursor, page_of
from customjobs.store.sql.resource_rows import ResourceRows

log = logging.getLogger(__name__)

_CANCEL_RETRIES = 5


class Controlled(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def project(self) -> str: ...
    @property
    def location(self) -> str: ...
    @property
    def state(self) -> JobState: ...
    @property
    def revision(self) -> int: ...
    @property
    def create_us(self) -> int: ...


R = TypeVar("R", bound=Controlled)


class ControlledService(Generic[R]):
    kind = ""  # "HyperparameterTuningJob"
    collection = ""  # "hyperparameterTuningJobs"
    delete_operation = ""  # the operation kind a delete records

    def __init__(
        self, store: ResourceRows[R], wake: Callable[[], None], draining: Callable[[], bool]
    ) -> None:
        self.store = store
        self.wake = wake
        self.draining = draining
        # Called with a row once it is deleted: a tuning job's trials go with it.
        self.on_deleted: Callable[[R], None] = lambda _: None

    def state_name(self, state: JobState) -> str:
        return state.value

    def name(self, project: str, location: str, row_id: int) -> str:
        return names.resource_name(project, location, self.collection, row_id)

    def refuse_when_draining(self) -> None:
        if self.draining():
            raise Unavailable("This server is shutting down and accepts no new jobs; retry on another.")

    def get(self, parent: names.Parent, row_id: int) -> R:
        row = self.store.get(row_id)
        if row is None or (row.project, row.location) != (parent.project, parent.location):
            name = self.name(parent.project, parent.location, row_id)
            raise NotFound(f'The {self.kind} "{name}" does not exist.')
        return row

    def list(
        self, parent: names.Parent, where: Expr | None, page_size: int, after: Cursor | None
    ) -> tuple[list[R], Cursor | None]:
        rows = self.store.page(parent.project, parent.location, where, page_size + 1, after)
        return page_of(rows, page_size)

    def cancel(self, parent: names.Parent, row_id: int) -> None:
        for _ in range(_CANCEL_RETRIES):
            row = self.get(parent, row_id)
            if row.state is JobState.CANCELLING:
                return
            if row.state not in CANCELLABLE:
                name = self.name(row.project, row.location, row.id)
                raise FailedPrecondition(
                    f'Cannot cancel {self.kind} "{name}": it is in state {self.state_name(row.state)}.'
                )
            if self.store.update(row.id, row.revision, now_us(), state=JobState.CANCELLING):
                log.info("%s %s: %s -> CANCELLING (cancel requested)", self.kind, row.id, row.state.value)
                self.wake()
                return
        raise FailedPrecondition(f"Cannot cancel {self.kind} {row_id}: its state keeps changing.")

    def delete(self, parent: names.Parent, row_id: int, api_version: str) -> Operation:
        row = self.get(parent, row_id)
        name = self.name(row.project, row.location, row.id)
        if row.state not in TERMINAL:
            raise FailedPrecondition(
                f'{self.kind} "{name}" is in state {self.state_name(row.state)} and cannot be deleted: '
                "cancel it first and wait for it to end."
            )
        operation = Operation.done_now(
            names.new_id(), self.delete_operation, row.project, row.location, api_version, row.id, now_us()
        )
        if not self.store.delete(row.id, operation):
            raise NotFound(f'The {self.kind} "{name}" does not exist.')
        log.info("%s %s: deleted (operation %s)", self.kind, row.id, operation.id)
        self.on_deleted(row)
        return operation
