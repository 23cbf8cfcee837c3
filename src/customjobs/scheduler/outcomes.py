"""How a running job ends, decided from its replicas' facts, in Vertex's words."""

from __future__ import annotations

from collections.abc import Callable

from customjobs.backends.base import ReplicaFact, ReplicaStatus
from customjobs.domain.job import Outcome
from customjobs.domain.spec import replica_name
from customjobs.domain.states import JobState
from customjobs.errors import RpcCode

CANCELLED_MESSAGE = "CANCELED"
_REASONS = {137: "Killed", 143: "Terminated", 134: "Aborted", 139: "Segmentation fault"}


def decide(
    facts: list[ReplicaFact],
    primary_pool: int,
    timed_out_after_s: float | None,
    log_tail: Callable[[str], list[str]],
    log_hint: Callable[[str], str],
) -> Outcome | None:
    """None while the job should keep running."""
    for fact in facts:
        if fact.status is ReplicaStatus.EXITED and fact.exit_code:
            reason = _REASONS.get(fact.exit_code, "Error")
            lines = log_tail(fact.name)
            message = (
                f"The replica {fact.name} exited with a non-zero status of {fact.exit_code}. "
                f"Termination reason: {reason}. To find out more about why your job exited please "
                f"check the logs: {log_hint(fact.name)}"
            )
            if lines:
                message += "\nLast lines of its log:\n" + "\n".join(lines)
            return Outcome(JobState.FAILED, int(RpcCode.INVALID_ARGUMENT), message)
    for fact in facts:
        if fact.status is ReplicaStatus.LOST:
            message = f"The replica {fact.name} was lost: {fact.detail}."
            return Outcome(JobState.FAILED, int(RpcCode.INTERNAL), message)
    primary = replica_name(primary_pool, 0)
    if any(f.name == primary and f.status is ReplicaStatus.EXITED for f in facts):
        return Outcome(JobState.SUCCEEDED)
    if timed_out_after_s is not None:
        message = (
            f"The job ran longer than its timeout of {timed_out_after_s:g}s "
            "(job_spec.scheduling.timeout) and was stopped."
        )
        return Outcome(JobState.FAILED, int(RpcCode.DEADLINE_EXCEEDED), message)
    return None


def cancelled() -> Outcome:
    return Outcome(JobState.CANCELLED, int(RpcCode.CANCELLED), CANCELLED_MESSAGE)
