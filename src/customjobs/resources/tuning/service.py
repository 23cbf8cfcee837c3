"""HyperparameterTuningJob use cases (create, get, list, cancel, delete), free of any transport.

The controller (controller.py) runs what create stores; cancel only asks for the move to
CANCELLING, and the controller stops the trials and ends the job once they have stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError

from customjobs import names
from customjobs.clock import now_us
from customjobs.domain.job import Operation
from customjobs.domain.query import Expr
from customjobs.domain.states import CANCELLABLE, TERMINAL, JobState
from customjobs.domain.tuning import NewTuningJob, TuningJob
from customjobs.errors import FailedPrecondition, NotFound, Unavailable
from customjobs.store.base import Cursor, page_of
from customjobs.store.sql.tuning import SqlTuningStore

log = logging.getLogger(__name__)

COLLECTION = "hyperparameterTuningJobs"
DELETE_OPERATION = "delete_hyperparameter_tuning_job"
_CANCEL_RETRIES = 5


def tuning_job_name(project: str, location: str, job_id: int) -> str:
    return names.resource_name(project, location, COLLECTION, job_id)


class TuningService:
    def __init__(self, store: SqlTuningStore, wake: Callable[[], None], draining: Callable[[], bool]) -> None:
        self.store = store
        self.wake = wake
        self.draining = draining

    def create(self, new: NewTuningJob) -> TuningJob:
        if self.draining():
            raise Unavailable("This server is shutting down and accepts no new jobs; retry on another.")
        job = self.store.insert(names.new_id(), new, JobState.PENDING, now_us())
        log.info("tuning job %s: created %r in %s/%s", job.id, job.display_name, job.project, job.location)
        self.wake()
        return job

    def submit(self, job_id: int, new: NewTuningJob) -> None:
        """Create tuning job `job_id` unless it exists (a pipeline's backing job: idempotent)."""
        try:
            self.store.insert(job_id, new, JobState.PENDING, now_us())
        except IntegrityError:
            if self.store.get(job_id) is None:
                raise
            return
        log.info("tuning job %s: submitted for a training pipeline", job_id)
        self.wake()

    def get(self, parent: names.Parent, job_id: int) -> TuningJob:
        job = self.store.get(job_id)
        if job is None or job.project != parent.project or job.location != parent.location:
            name = tuning_job_name(parent.project, parent.location, job_id)
            raise NotFound(f'The HyperparameterTuningJob "{name}" does not exist.')
        return job

    def list(
        self, parent: names.Parent, where: Expr | None, page_size: int, after: Cursor | None
    ) -> tuple[list[TuningJob], Cursor | None]:
        rows = self.store.page(parent.project, parent.location, where, page_size + 1, after)
        return page_of(rows, page_size)

    def cancel(self, parent: names.Parent, job_id: int) -> None:
        for _ in range(_CANCEL_RETRIES):
            job = self.get(parent, job_id)
            if job.state is JobState.CANCELLING:
                return
            if job.state not in CANCELLABLE:
                name = tuning_job_name(job.project, job.location, job.id)
                raise FailedPrecondition(
                    f'Cannot cancel HyperparameterTuningJob "{name}": it is in state {job.state.value}.'
                )
            if self.store.update(job.id, job.revision, now_us(), state=JobState.CANCELLING):
                log.info("tuning job %s: %s -> CANCELLING (cancel requested)", job.id, job.state.value)
                self.wake()
                return
        raise FailedPrecondition(f"Cannot cancel HyperparameterTuningJob {job_id}: its state keeps changing.")

    def delete(self, parent: names.Parent, job_id: int, api_version: str) -> Operation:
        job = self.get(parent, job_id)
        name = tuning_job_name(job.project, job.location, job.id)
        if job.state not in TERMINAL:
            raise FailedPrecondition(
                f'HyperparameterTuningJob "{name}" is in state {job.state.value} and cannot be deleted: '
                "cancel it first and wait for it to end."
            )
        operation = Operation.done_now(
            names.new_id(), DELETE_OPERATION, job.project, job.location, api_version, job.id, now_us()
        )
        if not self.store.delete(job.id, operation):
            raise NotFound(f'The HyperparameterTuningJob "{name}" does not exist.')
        log.info("tuning job %s: deleted (operation %s)", job.id, operation.id)
        return operation
