"""The stored job as the service sees it: identity, state, times, outcome, backend handle.

The user's spec travels as `spec_json`, the CustomJob's input fields in proto JSON:
only wire/ reads or writes that text, so the domain never depends on the wire format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from customjobs.domain.placement import JobAllocation, job_priority
from customjobs.domain.states import JobState


@dataclass(frozen=True)
class Outcome:
    """How a job is going to end, decided before its last replicas have stopped."""

    state: JobState
    error_code: int | None = None
    error_message: str | None = None
    # The failing replica's exit status, when a replica's exit decided it (not stored).
    exit_code: int | None = None
    # A replica was lost (its process or node vanished) rather than exiting (not stored).
    replica_lost: bool = False


@dataclass
class Job:
    id: int
    project: str
    location: str
    display_name: str
    state: JobState
    spec_json: str
    create_us: int
    update_us: int
    labels: dict[str, str] = field(default_factory=dict)
    start_us: int | None = None
    end_us: int | None = None
    error_code: int | None = None
    error_message: str | None = None
    attempt: int = 0
    handle: dict[str, Any] | None = None
    outcome: Outcome | None = None
    stop_requested_us: int | None = None
    web_access_uris: dict[str, str] = field(default_factory=dict)
    # What the scheduler granted at admission (held until the job ends), and why it waits.
    allocation: JobAllocation | None = None
    queue_reason: str | None = None
    owner: str | None = None

    @property
    def priority(self) -> int:
        return job_priority(self.labels)


@dataclass(frozen=True)
class NewJob:
    """What create needs: the validated request, already reduced to domain values."""

    project: str
    location: str
    display_name: str
    labels: dict[str, str]
    spec_json: str
    # The resource this execution runs for ("hyperparameterTuningJobs/<id>"), None for a CustomJob.
    owner: str | None = None

    @property
    def priority(self) -> int:
        return job_priority(self.labels)


@dataclass(frozen=True)
class StateEvent:
    """One line of a job's state history."""

    state: JobState
    time_us: int
    message: str | None


@dataclass(frozen=True)
class Operation:
    """A google.longrunning.Operation this server started (today: job deletes)."""

    id: int
    project: str
    location: str
    kind: str
    api_version: str
    done: bool
    create_us: int
    update_us: int
    job_id: int | None = None
    error_code: int | None = None
    error_message: str | None = None
    # The response as proto JSON (an upload's UploadModelResponse); None means Empty.
    result_json: str | None = None

    @classmethod
    def done_now(
        cls,
        op_id: int,
        kind: str,
        project: str,
        location: str,
        api_version: str,
        job_id: int | None,
        now_us: int,
        result_json: str | None = None,
    ) -> Operation:
        """An operation that is over as it starts (a delete: the row goes in one transaction)."""
        return cls(
            op_id, project, location, kind, api_version, True, now_us, now_us, job_id, result_json=result_json
        )
