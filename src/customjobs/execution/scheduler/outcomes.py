"""How a running job ends, decided from its replicas' facts, in Vertex's words."""

from __future__ import annotations

from collections.abc import Callable

from customjobs.domain.job import Outcome
from customjobs.domain.spec import replica_name
from customjobs.domain.states import JobState
from customjobs.errors import RpcCode
from customjobs.execution.backends.base import ReplicaFact, ReplicaStatus

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
            if fact.oom_killed:
                message = (
                    f"The replica {fact.name} ran out of memory and exited with a non-zero status of "
                    f"{fact.exit_code}. To find out more about why your job exited please check the "
                    f"logs: {log_hint(fact.name)}"
                )
            if lines:
                message += "\nLast lines of its log:\n" + "\n".join(lines)
            return Outcome(JobState.FAILED, int(RpcCode.INVALID_ARGUMENT), message, fact.exit_code)
    for fact in facts:
        if fact.status is ReplicaStatus.LOST:
            message = f"The replica {fact.name} was lost: {fact.detail}."
            return Outcome(JobState.FAILED, int(RpcCode.INTERNAL), message, replica_lost=True)
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


# Vertex retries a job whose replica died of SIGABRT or SIGSEGV (as a shell reports them).
TRANSIENT_EXIT_CODES = frozenset({134, 139})
# The whole job is retried up to this many times before it fails (Vertex's rule).
JOB_RETRY_LIMIT = 3


def restart_reason(
    failed: Outcome, attempt: int, restart_job_on_worker_restart: bool, disable_retries: bool
) -> str | None:
    """Why the job should start over as a new attempt instead of failing; None to let it fail.

    `disableRetries` turns every retry off (and with it restartJobOnWorkerRestart, as Vertex
    documents); otherwise a transient exit status, or any replica failure when
    `restartJobOnWorkerRestart` is set, restarts the whole gang, up to JOB_RETRY_LIMIT times.
    """
    if failed.state is not JobState.FAILED or disable_retries or attempt > JOB_RETRY_LIMIT:
        return None
    if failed.replica_lost and restart_job_on_worker_restart:
        cause = f"{failed.error_message} restartJobOnWorkerRestart is set"
    elif failed.exit_code is None:
        return None
    elif failed.exit_code in TRANSIENT_EXIT_CODES:
        cause = f"a replica exited with the transient status {failed.exit_code}"
    elif restart_job_on_worker_restart:
        cause = f"a replica exited with status {failed.exit_code} and restartJobOnWorkerRestart is set"
    else:
        return None
    return f"restarting the job as attempt {attempt + 1} of {JOB_RETRY_LIMIT + 1}: {cause}"


def restart(reason: str) -> Outcome:
    """The outcome that stops every replica and starts the job over (RUNNING -> PENDING)."""
    return Outcome(JobState.PENDING, None, reason)
