"""CustomJob use cases (create, get, list, cancel, delete), free of any transport.

REST and gRPC handlers call these and only translate; the scheduler is told about new
work through `wake`, so a job starts at once instead of on the next tick.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from customjobs import names
from customjobs.clock import now_us
from customjobs.domain.job import Job, NewJob, Operation
from customjobs.domain.placement import QueueStatus
from customjobs.domain.query import Expr
from customjobs.domain.states import CANCELLABLE, TERMINAL, JobState
from customjobs.errors import FailedPrecondition, NotFound, Unavailable
from customjobs.execution import transitions
from customjobs.store.base import Cursor, Store, page_of
from customjobs.telemetry.context import job_context

log = logging.getLogger(__name__)

DELETE_OPERATION = "delete_custom_job"
_CANCEL_RETRIES = 5


class JobService:
    def __init__(
        self,
        store: Store,
        wake: Callable[[], None] = lambda: None,
        on_deleted: Callable[[Job], None] = lambda job: None,
        check: Callable[[NewJob], None] = lambda new: None,
    ) -> None:
        self.store = store
        self.wake = wake
        self.on_deleted = on_deleted
        # Refuses (raises an ApiError for) a job this server could never run: strict capacity.
        self.check = check
        # Set on SIGTERM: creates are refused (503) so the load balancer sends them elsewhere.
        self.draining = False

    def create(self, new: NewJob) -> Job:
        if self.draining:
            raise Unavailable("This server is shutting down and accepts no new jobs; retry on another.")
        self.check(new)
        job = self.store.insert_job(names.new_id(), new, JobState.PENDING, now_us())
        with job_context(names.job_name(job.project, job.location, job.id)):
            log.info("job %s: created %r in %s/%s", job.id, job.display_name, job.project, job.location)
        self.wake()
        return job

    def get(self, parent: names.Parent, job_id: int) -> Job:
        job = self.store.get_job(job_id)
        if job is None or job.project != parent.project or job.location != parent.location:
            raise NotFound(
                f'The CustomJob "{names.job_name(parent.project, parent.location, job_id)}" does not exist.'
            )
        return job

    def list(
        self, parent: names.Parent, where: Expr | None, page_size: int, after: Cursor | None
    ) -> tuple[list[Job], Cursor | None]:
        rows = self.store.list_jobs(parent.project, parent.location, where, page_size + 1, after)
        return page_of(rows, page_size)

    def queue_status(self, jobs: Sequence[Job]) -> dict[int, QueueStatus]:
        """Why each QUEUED job among `jobs` waits, and its place in the queue (1 = next)."""
        queued = [job for job in jobs if job.state is JobState.QUEUED]
        positions = self.store.queue_positions([job.id for job in queued])
        return {
            job.id: QueueStatus(job.queue_reason or "Waiting for capacity.", positions[job.id])
            for job in queued
            if job.id in positions
        }

    def cancel(self, parent: names.Parent, job_id: int) -> None:
        with job_context(names.job_name(parent.project, parent.location, job_id)):
            self._cancel(parent, job_id)

    def _cancel(self, parent: names.Parent, job_id: int) -> None:
        for _ in range(_CANCEL_RETRIES):
            job = self.get(parent, job_id)
            if job.state is JobState.CANCELLING:
                return
            if job.state not in CANCELLABLE:
                raise FailedPrecondition(
                    f'Cannot cancel CustomJob "{names.job_name(job.project, job.location, job.id)}": '
                    f"it is in state {job.state.value}."
                )
            if transitions.move(self.store, job, JobState.CANCELLING, message="cancel requested"):
                self.wake()
                return
        raise FailedPrecondition(f"Cannot cancel CustomJob {job_id}: its state keeps changing; try again.")

    def delete(self, parent: names.Parent, job_id: int, api_version: str) -> Operation:
        job = self.get(parent, job_id)
        if job.state not in TERMINAL:
            raise FailedPrecondition(
                f'CustomJob "{names.job_name(job.project, job.location, job.id)}" is in state '
                f"{job.state.value} and cannot be deleted: cancel it first and wait for it to end."
            )
        operation = Operation.done_now(
            names.new_id(), DELETE_OPERATION, job.project, job.location, api_version, job.id, now_us()
        )
        if not self.store.delete_job(job.id, operation, TERMINAL):
            raise NotFound(
                f'The CustomJob "{names.job_name(job.project, job.location, job.id)}" does not exist.'
            )
        self.on_deleted(job)
        with job_context(names.job_name(job.project, job.location, job.id)):
            log.info("job %s: deleted (operation %s)", job.id, operation.id)
        return operation
