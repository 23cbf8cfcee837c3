"""The only writer of a job's state.

Every move is checked against domain.states.TRANSITIONS and applied as a
compare-and-set: a move whose expected state is no longer current is "not applied"
(False), never an error, so racing writers (the API's cancel, the scheduler's reaper,
a second server) resolve themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from customjobs.clock import now_us
from customjobs.domain.job import Job
from customjobs.domain.states import TERMINAL, JobState, can_move
from customjobs.store.base import StateChange, Store

log = logging.getLogger(__name__)


class IllegalTransition(RuntimeError):
    """A bug: code asked for a move the state machine forbids."""


def move(
    store: Store,
    job: Job,
    target: JobState,
    *,
    error_code: int | None = None,
    error_message: str | None = None,
    message: str | None = None,
    reset_runtime: bool = False,
    runtime: Mapping[str, Any] | None = None,
    attempt: int | None = None,
) -> bool:
    """Move `job` to `target` if it is still in `job.state` (and on `attempt`, when given),
    writing `runtime` fields (as Store.update_runtime takes them) in the same write."""
    if not can_move(job.state, target):
        raise IllegalTransition(f"{job.state.value} -> {target.value} is not a legal move")
    change = StateChange(
        job_id=job.id,
        expected=job.state,
        target=target,
        now_us=now_us(),
        set_start=target is JobState.RUNNING,
        set_end=target in TERMINAL,
        error_code=error_code,
        error_message=error_message,
        message=message,
        reset_runtime=reset_runtime,
        runtime=runtime or {},
        attempt=attempt,
    )
    applied = store.change_state(change)
    if applied:
        log.info(
            "job %s: %s -> %s%s", job.id, job.state.value, target.value, f" ({message})" if message else ""
        )
    else:
        log.debug("job %s: %s -> %s not applied (state changed meanwhile)", job.id, job.state.value, target)
    return applied
