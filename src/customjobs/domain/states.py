"""THE job state machine: every state, which are terminal, and which moves are legal.

execution/transitions.py is the only code that writes a job's state, and it checks
every move against TRANSITIONS. docs/states.md draws this table; a test keeps the two equal.
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    """Vertex's JobState names (google.cloud.aiplatform.v1.JobState) used by CustomJobs."""

    QUEUED = "JOB_STATE_QUEUED"
    PENDING = "JOB_STATE_PENDING"
    RUNNING = "JOB_STATE_RUNNING"
    SUCCEEDED = "JOB_STATE_SUCCEEDED"
    FAILED = "JOB_STATE_FAILED"
    CANCELLING = "JOB_STATE_CANCELLING"
    CANCELLED = "JOB_STATE_CANCELLED"


TERMINAL: frozenset[JobState] = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})

# Jobs the user may still cancel (cancel of CANCELLING is a no-op, answered 200).
CANCELLABLE: frozenset[JobState] = frozenset({JobState.QUEUED, JobState.PENDING, JobState.RUNNING})

# Jobs that hold, or may soon hold, running replicas: the scheduler watches these.
ACTIVE: frozenset[JobState] = frozenset(
    {JobState.QUEUED, JobState.PENDING, JobState.RUNNING, JobState.CANCELLING}
)

TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.PENDING, JobState.CANCELLING, JobState.FAILED}),
    # PENDING -> QUEUED: the job does not fit the machine now and waits for capacity.
    JobState.PENDING: frozenset({JobState.RUNNING, JobState.CANCELLING, JobState.FAILED, JobState.QUEUED}),
    # RUNNING -> PENDING is a whole-job retry; startTime is kept.
    JobState.RUNNING: frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLING, JobState.PENDING}),
    # A job being cancelled may still end on its own first (Vertex's proto says so).
    JobState.CANCELLING: frozenset({JobState.CANCELLED, JobState.SUCCEEDED, JobState.FAILED}),
    JobState.SUCCEEDED: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.CANCELLED: frozenset(),
}


def pipeline_state_name(state: JobState) -> str:
    """A TrainingPipeline's name for the state: PipelineState spells JOB_STATE_X as PIPELINE_STATE_X."""
    return "PIPELINE_STATE_" + state.value.removeprefix("JOB_STATE_")


def can_move(current: JobState, target: JobState) -> bool:
    return target in TRANSITIONS[current]
