"""The Store protocol: everything the service and scheduler ask of persistence.

One implementation today (store/sql, SQLite and PostgreSQL through SQLAlchemy); the
contract tests in tests/contract run against every implementation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from customjobs.domain.job import Job, NewJob, Operation, StateEvent
from customjobs.domain.placement import JobAllocation
from customjobs.domain.query import Expr
from customjobs.domain.states import JobState


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the last row's sort key (newest first)."""

    create_us: int
    id: int


class Keyed(Protocol):
    """A row listed newest first by (create_us, id): a job of any resource."""

    @property
    def create_us(self) -> int: ...

    @property
    def id(self) -> int: ...


K = TypeVar("K", bound=Keyed)


def page_of(rows: Sequence[K], page_size: int) -> tuple[list[K], Cursor | None]:
    """One page of `rows` (fetched with one row more than the page), and where the next begins."""
    page = list(rows[:page_size])
    return page, Cursor(page[-1].create_us, page[-1].id) if len(rows) > page_size else None


@dataclass(frozen=True)
class StateChange:
    """A compare-and-set of a job's state, with what the move sets alongside."""

    job_id: int
    expected: JobState
    target: JobState
    now_us: int
    set_start: bool = False
    set_end: bool = False
    error_code: int | None = None
    error_message: str | None = None
    message: str | None = None
    # A whole-job restart: forget the ended attempt's replicas, outcome and stop time.
    reset_runtime: bool = False
    # Runtime fields (as update_runtime takes them) written by the same compare-and-set, so a
    # move and what it implies (the replicas' handle, a queue reason) land together or not.
    runtime: Mapping[str, Any] = field(default_factory=dict)
    # Also expected: the job is still on this attempt (a launch's move to RUNNING).
    attempt: int | None = None


@dataclass(frozen=True)
class AttemptClaim:
    """A launch's claim of its job's next attempt (Store.claim_attempt's arguments)."""

    job_id: int
    expected: JobState
    attempt: int
    allocation: JobAllocation | None = None


@dataclass(frozen=True)
class JobScope:
    """A project and location that holds CustomJobs: how many, and when the newest was created."""

    project: str
    location: str
    job_count: int
    latest_create_us: int


class Store(Protocol):
    # True where a read by key is answered from a local file and never waits on a writer
    # or the network (SQLite in WAL mode): the REST layer may make it on the event loop,
    # where it costs less than the hop to a worker thread.
    reads_are_local: bool

    def insert_job(self, job_id: int, new: NewJob, state: JobState, now_us: int) -> Job: ...

    def get_job(self, job_id: int) -> Job | None: ...

    def list_jobs(
        self, project: str, location: str, where: Expr | None, limit: int, after: Cursor | None
    ) -> list[Job]: ...

    def jobs_in_states(self, states: frozenset[JobState]) -> list[Job]: ...

    def placing_jobs(self) -> list[Job]:
        """QUEUED jobs that hold an allocation: admitted, waiting for the backend to place
        them (a Ray gang's placement group), oldest first."""
        ...

    def delete_owned(self, owner: str, terminal: frozenset[JobState]) -> list[int]:
        """Delete the ended executions `owner` started; the ids deleted."""
        ...

    def top_queued_priority(self, below: int | None) -> int | None:
        """The highest priority among QUEUED jobs (below `below` when given); None: none left."""
        ...

    def queued_page(self, priority: int, after: tuple[int, int] | None, limit: int) -> list[Job]:
        """QUEUED jobs of `priority` after (create_us, id) `after`, oldest first, at most `limit`."""
        ...

    def change_state(self, change: StateChange) -> bool:
        """Apply the change only if the job is still in `expected`; False when the race was lost."""
        ...

    def change_states(self, changes: Sequence[StateChange]) -> list[bool]:
        """change_state for each, in order, in one write: whether each applied."""
        ...

    def update_runtime(self, job_id: int, expected: JobState | None, **fields: Any) -> bool:
        """Set runtime fields (attempt, handle, outcome, stop_requested_us, web_access_uris,
        allocation, queue_reason).

        Only while the job is in `expected`, or in any state that is not terminal when None.
        """
        ...

    def claim_attempt(
        self, job_id: int, expected: JobState, attempt: int, allocation: JobAllocation | None = None
    ) -> bool:
        """Compare-and-set the attempt number from `attempt` to `attempt + 1`.

        Only while the job is in `expected` and holds no replicas' handle: of two schedulers
        about to launch the same job, exactly one wins the attempt, and only it starts replicas.
        With `allocation`, the job's grant from admission is written by the same write.
        """
        ...

    def claim_attempts(self, claims: Sequence[AttemptClaim]) -> list[bool]:
        """claim_attempt for each, in order, in one write: whether each was won."""
        ...

    def attach_handle(self, job_id: int, attempt: int, handle: dict[str, Any]) -> bool:
        """Store the replicas' handle, only while `attempt` is still the job's and it has not ended."""
        ...

    def queue_positions(self, job_ids: Sequence[int]) -> dict[int, int]:
        """The place in the queue (1 = first) of each of `job_ids` that is QUEUED.

        The queue's order is the scheduler's: priority (higher first), then create time.
        Computed when read, so admitting one job never rewrites every queued row.
        """
        ...

    def count_by_state(self) -> dict[JobState, int]:
        """How many jobs are in each state (states with none are left out): for metrics."""
        ...

    def events(self, job_id: int) -> list[StateEvent]: ...

    def delete_job(self, job_id: int, operation: Operation, terminal: frozenset[JobState]) -> bool:
        """Delete a job in a terminal state and record its operation, in one transaction."""
        ...

    def get_operation(self, op_id: int) -> Operation | None: ...

    def list_operations(
        self, project: str, location: str, job_id: int | None, limit: int, after: Cursor | None
    ) -> list[Operation]: ...

    def delete_operation(self, op_id: int) -> bool: ...

    def job_scopes(self) -> list[JobScope]:
        """Every project and location holding CustomJobs, the one with the newest job first.

        For the console's picker: the distinct parents are few (projects times locations).
        """
        ...
