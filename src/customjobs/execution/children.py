"""The narrow interface through which a resource's controller runs child executions.

A tuning job's trials and a training pipeline's backing job are executions like any
CustomJob (same scheduler, backends, capacity, logs). A trial names its owner, which
hides it from customJobs list; a pipeline's backing job is a CustomJob users see, so it
names none and the pipeline keeps its id. The controller chooses each
child's id before it records the child, so submitting again after a restart finds the
execution already there instead of starting it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError

from customjobs.clock import now_us
from customjobs.domain.job import Job, NewJob
from customjobs.domain.states import CANCELLABLE, TERMINAL, JobState
from customjobs.execution import transitions
from customjobs.store.base import Store

log = logging.getLogger(__name__)


class ChildExecutions:
    def __init__(
        self,
        store: Store,
        wake: Callable[[], None],
        seal: Callable[[NewJob], NewJob] = lambda new: new,
        on_removed: Callable[[int], None] = lambda _: None,
    ) -> None:
        self.store = store
        self.wake = wake
        # What goes with a removed execution besides its row (its logs and files).
        self.on_removed = on_removed
        # A child that asks for a customer-managed key is sealed as a CustomJob is (kms/jobdata.py);
        # an ApiError when the key cannot be used.
        self.seal = seal

    def submit(self, execution_id: int, new: NewJob) -> None:
        """Start execution `execution_id` unless it exists already (idempotent)."""
        sealed = self.seal(new)
        try:
            self.store.insert_job(execution_id, sealed, JobState.PENDING, now_us())
        except IntegrityError:
            if self.store.get_job(execution_id) is None:
                raise
            return
        log.info("execution %s: submitted for %s", execution_id, new.owner or new.display_name)
        self.wake()

    def get(self, execution_id: int) -> Job | None:
        return self.store.get_job(execution_id)

    def remove_owned(self, owner: str) -> None:
        """Remove every ended execution `owner` started, with its logs (its owner was deleted)."""
        for execution_id in self.store.delete_owned(owner, TERMINAL):
            self.on_removed(execution_id)

    def cancel(self, execution: Job, reason: str) -> None:
        if execution.state in CANCELLABLE and transitions.move(
            self.store, execution, JobState.CANCELLING, message=reason
        ):
            self.wake()
