"""Which waiting jobs start now: a pure function of capacity, what runs, and what waits.

Jobs are admitted whole (every replica of every pool, or none), in priority order (the
`customjobs-priority` label, higher first), first come first served within a priority.
The first job that does not fit is the head of the queue; it gets a reservation at its
estimated start (when enough running jobs will have ended, each estimated to end at its
start plus its `scheduling.timeout`). A later job may start now only if it fits now and
does not delay that reservation: it ends (by its own timeout) before the head's estimated
start, or it fits in what the head will leave free then. This is EASY backfill.

Nothing here touches the store, a clock or a process: the scheduler's queueing step
(queueing.py) builds the inputs and applies the decisions, and tests call `plan` directly.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from customjobs.domain.placement import JobAllocation, ReplicaAllocation
from customjobs.execution.capacity import Capacity, JobShape, Resources, never_fits


@dataclass(frozen=True)
class Holder:
    """A job that holds resources: admitted, running, or stopping."""

    job_id: int
    project: str
    allocation: JobAllocation
    expected_end_us: float

    @property
    def resources(self) -> Resources:
        gpus = {kind: len(indices) for kind, indices in self.allocation.gpu_indices().items()}
        return Resources(self.allocation.cpus, self.allocation.memory_gb, gpus)


@dataclass(frozen=True)
class Candidate:
    """A job waiting to be admitted."""

    job_id: int
    project: str
    priority: int
    create_us: int
    shape: JobShape
    timeout_s: float
    max_wait_s: float | None = None

    @property
    def order(self) -> tuple[int, int, int]:
        return (-self.priority, self.create_us, self.job_id)


@dataclass(frozen=True)
class Admit:
    job_id: int
    allocation: JobAllocation


@dataclass(frozen=True)
class Wait:
    job_id: int
    reason: str
    position: int


@dataclass(frozen=True)
class Expire:
    """Waited longer than its maxWaitDuration: it ends FAILED."""

    job_id: int
    message: str


@dataclass(frozen=True)
class Refuse:
    """Can never fit this server (strict mode; the capacity shrank since it was created)."""

    job_id: int
    message: str


Decision = Admit | Wait | Expire | Refuse


@dataclass
class _Reservation:
    """The head of the queue's estimated start, and what will be free beyond its needs then."""

    job_id: int
    start_us: float
    extra: Resources


class _Machine:
    """Free resources and GPU device indices while one plan is made."""

    def __init__(self, capacity: Capacity, holders: Sequence[Holder]) -> None:
        self.free = capacity.total
        self.devices = {kind: sorted(indices) for kind, indices in capacity.gpu_devices.items()}
        self.ends: list[tuple[float, Resources]] = []
        self.per_project: Counter[str] = Counter()
        for holder in holders:
            self.hold(holder.project, holder.resources, holder.expected_end_us)
            for kind, used in holder.allocation.gpu_indices().items():
                self.devices[kind] = [i for i in self.devices.get(kind, []) if i not in used]

    def hold(self, project: str, resources: Resources, end_us: float) -> None:
        self.free = self.free - resources
        self.ends.append((end_us, resources))
        self.per_project[project] += 1

    def allocate(self, candidate: Candidate, now_us: float) -> JobAllocation:
        shape = candidate.shape
        replicas = []
        for replica in shape.replicas:
            indices: tuple[int, ...] = ()
            if replica.gpu_count:
                free = self.devices.get(replica.gpu_type, [])
                indices = tuple(free[: replica.gpu_count])
                self.devices[replica.gpu_type] = free[replica.gpu_count :]
            notes = (replica.note,) if replica.note else ()
            replicas.append(
                ReplicaAllocation(
                    replica.name, replica.cpus, replica.memory_gb, replica.gpu_type, indices, notes
                )
            )
        self.hold(candidate.project, shape.need, now_us + candidate.timeout_s * 1e6)
        return JobAllocation(shape.need.cpus, shape.need.memory_gb, tuple(replicas))

    def reserve(self, candidate: Candidate, now_us: float) -> _Reservation:
        """When the head will fit, as running jobs end by their estimates, and what is left then."""
        available = self.free
        if available.covers(candidate.shape.need):
            return _Reservation(candidate.job_id, now_us, available - candidate.shape.need)
        for end_us, resources in sorted(self.ends, key=lambda e: e[0]):
            available = available + resources
            if available.covers(candidate.shape.need):
                return _Reservation(candidate.job_id, max(end_us, now_us), available - candidate.shape.need)
        return _Reservation(candidate.job_id, math.inf, Resources())


def plan(
    capacity: Capacity, holders: Sequence[Holder], candidates: Sequence[Candidate], now_us: float
) -> list[Decision]:
    """One decision per candidate, in queue order."""
    planner = Planner(capacity, holders, now_us)
    return [planner.decide(candidate) for candidate in sorted(candidates, key=lambda c: c.order)]


class Planner:
    """`plan`, one candidate at a time: the scheduler feeds it the queue in order, a page at a
    time, and stops reading once nothing later in the queue could start (queueing.py)."""

    def __init__(self, capacity: Capacity, holders: Sequence[Holder], now_us: float) -> None:
        self.capacity = capacity
        self.now_us = now_us
        self.machine = _Machine(capacity, holders)
        self.reservation: _Reservation | None = None
        self.position = 0

    def decide(self, candidate: Candidate) -> Decision:
        """The decision for the next candidate in queue order (callers keep that order)."""
        machine, now_us = self.machine, self.now_us
        capacity, reservation = self.capacity, self.reservation
        need = candidate.shape.need
        if candidate.max_wait_s and now_us - candidate.create_us > candidate.max_wait_s * 1e6:
            return Expire(candidate.job_id, _expired(candidate, machine.free))
        refusal = never_fits(candidate.shape, capacity)
        if refusal is not None:
            return Refuse(candidate.job_id, refusal)
        reason = _blocked_by_project(candidate, capacity, machine)
        if reason is None:
            fits = machine.free.covers(need)
            if reservation is None and fits:
                return Admit(candidate.job_id, machine.allocate(candidate, now_us))
            if reservation is None:
                self.reservation = machine.reserve(candidate, now_us)
                reason = _waits_for(candidate.shape, machine.free)
            elif fits and now_us + candidate.timeout_s * 1e6 <= reservation.start_us:
                return Admit(candidate.job_id, machine.allocate(candidate, now_us))
            elif fits and reservation.extra.covers(need):
                reservation.extra = reservation.extra - need
                return Admit(candidate.job_id, machine.allocate(candidate, now_us))
            else:
                reason = _waits_for(candidate.shape, machine.free) if not fits else _behind(reservation)
        self.position += 1
        return Wait(candidate.job_id, reason, self.position)

    @property
    def free(self) -> Resources:
        """What is free now, after the candidates admitted so far."""
        return self.machine.free

    def blocked_projects(self) -> frozenset[str]:
        """The projects that hold all the jobs --max-jobs-per-project allows, so far."""
        limit = self.capacity.max_jobs_per_project
        if limit is None:
            return frozenset()
        return frozenset(p for p, n in self.machine.per_project.items() if n >= limit)

    def blocks(self, least: Resources) -> bool:
        """True when no job needing at least `least` (in every resource) fits now, so none of
        them can start in this pass, whatever its place in the queue."""
        return not self.machine.free.covers(least)


# Reasons are stated in stable terms (which resource, not how much is free right now), so a
# queued job's stored reason changes only when what it waits for changes.


def _kinds(free: Resources, need: Resources) -> str:
    """'vCPUs and memory', 'NVIDIA_TESLA_T4 GPUs': the kinds of resource that are short."""
    named = [k if k in ("vCPUs", "memory") else f"{k} GPUs" for k in free.short_of(need)]
    return ", ".join(named[:-1]) + f" and {named[-1]}" if len(named) > 1 else "".join(named)


def _waits_for(shape: JobShape, free: Resources) -> str:
    what = _kinds(free, shape.need)
    alone = " (it is larger than this machine, so it runs alone)" if shape.runs_alone else ""
    return f"Waiting for free {what}: the job needs {shape.need.describe()} at once{alone}."


def _behind(reservation: _Reservation) -> str:
    return (
        "Waiting for its turn: what it needs is free, but starting it now could delay "
        f"job {reservation.job_id}, ahead of it in the queue."
    )


def _blocked_by_project(candidate: Candidate, capacity: Capacity, machine: _Machine) -> str | None:
    limit = capacity.max_jobs_per_project
    if limit is None or machine.per_project[candidate.project] < limit:
        return None
    return (
        f"Waiting for a slot of project {candidate.project}: {limit} of its jobs are running, "
        "the most this server allows (--max-jobs-per-project)."
    )


def _expired(candidate: Candidate, free: Resources) -> str:
    short = _kinds(free, candidate.shape.need)
    waited = f" for free {short}" if short else ""
    return (
        f"The job waited longer than its maxWaitDuration of {candidate.max_wait_s:g}s "
        f"(job_spec.scheduling.max_wait_duration){waited} and was never started: it needs "
        f"{candidate.shape.need.describe()} at once."
    )
