"""The only writer of a job's state.

Every move is checked against domain.states.TRANSITIONS and applied as a
compare-and-set: a move whose expected state is no longer current is "not applied"
(False), never an error, so racing writers (the API's cancel, the scheduler's reaper,
a second server) resolve themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from customjobs import names
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
    move = Move(job, target, error_code, error_message, message, reset_runtime, runtime or {}, attempt)
    return move_all(store, [move])[0]


@dataclass(frozen=True)
class Move:
    """One job's move, as `move` takes it."""

    job: Job
    target: JobState
    error_code: int | None = None
    error_message: str | None = None
    message: str | None = None
    reset_runtime: bool = False
    runtime: Mapping[str, Any] = field(default_factory=dict)
    attempt: int | None = None


def move_all(store: Store, moves: Sequence[Move]) -> list[bool]:
    """Each move as `move` makes it, all in one write (one commit): whether each applied."""
    stamp = now_us()
    changes = []
    for m in moves:
        if not can_move(m.job.state, m.target):
            raise IllegalTransition(f"{m.job.state.value} -> {m.target.value} is not a legal move")
        changes.append(
            StateChange(
                job_id=m.job.id,
                expected=m.job.state,
                target=m.target,
                now_us=stamp,
                set_start=m.target is JobState.RUNNING,
                set_end=m.target in TERMINAL,
                error_code=m.error_code,
                error_message=m.error_message,
                message=m.message,
                reset_runtime=m.reset_runtime,
                runtime=m.runtime,
                attempt=m.attempt,
            )
        )
    applied = store.change_states(changes)
    for m, done in zip(moves, applied, strict=True):
        job, target, note = m.job, m.target, f" ({m.message})" if m.message else ""
        # The job's own fields on the record, as job_context gives them: a batch spans jobs.
        name = names.job_name(job.project, job.location, job.id)
        about = {"job": name, "attempt": m.attempt or job.attempt}
        if done:
            log.info("job %s: %s -> %s%s", job.id, job.state.value, target.value, note, extra=about)
        else:
            log.debug("job %s: %s -> %s not applied", job.id, job.state.value, target.value, extra=about)
    return applied
