"""The scheduler's admission step: waiting jobs in, decisions applied, admitted jobs out.

admission.plan decides; this module feeds it from the store's jobs and writes what it
decided through execution/transitions.py (PENDING -> QUEUED with a reason, QUEUED -> PENDING
when admitted, FAILED when a job waited past its maxWaitDuration) and the job's runtime
columns (its allocation, held from admission until it ends, and its queue reason).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from google.protobuf import json_format

from customjobs import names
from customjobs.domain.job import Job, NewJob
from customjobs.domain.spec import DEFAULT_TIMEOUT_S, LaunchSpec
from customjobs.domain.states import JobState
from customjobs.errors import ApiError, FieldViolation, InvalidArgument, RpcCode
from customjobs.execution import transitions
from customjobs.execution.capacity import Capacity, JobShape, Resources, exceeds, job_shape, never_fits
from customjobs.execution.scheduler import admission
from customjobs.execution.scheduler.queue_head import queue_order, queued_pages
from customjobs.store.base import Store
from customjobs.telemetry.context import job_context
from customjobs.wire.launch import launch_spec

log = logging.getLogger(__name__)

# Jobs whose allocation counts against the machine until they end.
HOLDING = frozenset({JobState.PENDING, JobState.RUNNING, JobState.CANCELLING})


def is_waiting(job: Job) -> bool:
    """Not admitted yet: queued, or pending with neither an allocation nor replicas."""
    if job.state is JobState.QUEUED:
        return not is_placing(job)
    return job.state is JobState.PENDING and job.allocation is None and job.handle is None


def is_placing(job: Job) -> bool:
    """Admitted, and waiting QUEUED for the backend to place it (a Ray gang's placement
    group): it holds its allocation, and the scheduler's pass launches it, not admission."""
    return job.state is JobState.QUEUED and job.allocation is not None and job.handle is None


def create_check(capacity: Capacity) -> Callable[[NewJob], None]:
    """What JobService.create runs before storing a job: in strict mode, a job that could never
    fit this server is a 400 naming what it lacks (the same for REST and gRPC)."""

    def check(new: NewJob) -> None:
        if not capacity.strict:
            return
        try:
            spec = launch_spec(new.spec_json)
        except (json_format.ParseError, ValueError):
            return  # not a plain spec (sealed by kms/): the scheduler refuses it instead
        refusal = never_fits(job_shape(spec, capacity), capacity)
        if refusal is not None:
            raise InvalidArgument(refusal, (FieldViolation("job_spec.worker_pool_specs", refusal),))

    return check


@dataclass
class StepResult:
    admitted: list[Job] = field(default_factory=list)
    failed: int = 0
    # QUEUED jobs this step read (the head of the queue; all of them on a full read).
    queued_read: int = 0
    # Jobs whose spec and shape stay cached for the next pass: the head of the queue.
    kept: set[int] = field(default_factory=set)


# QUEUED rows read by the first query of a step and by the largest (pages double), and how
# many of the first read keep their spec and shape cached from one pass to the next (the
# rest of a full read is parsed, decided and let go).
FIRST_PAGE_ROWS = 8
MOST_PAGE_ROWS = 512
CACHED_HEAD = 256

QueueKey = tuple[int, int, int]


@dataclass
class _Tail:
    """The queue beyond its last admission, as the last full read of it left it.

    Every QUEUED job after `after` (in queue order; None: every QUEUED job) was decided,
    and given its reason, while `free` was free and the projects in `blocked` had all the
    jobs --max-jobs-per-project allows; each needs at least `least` (None: there were none),
    the amounts they need of each kind of resource are among `needs`, and none expires
    before `deadline_us`. A reason names the kinds of resource a job is short of, or its
    project's limit: while a pass finds, at that point, the same projects blocked, no need
    in `needs` on the other side of what is free now than of `free`, and nothing needing
    `least` fits, those jobs would be decided the same again: the pass does not read them.
    """

    after: QueueKey | None
    free: Resources
    blocked: frozenset[str]
    least: Resources | None
    needs: dict[str, frozenset[float]]
    deadline_us: float


class Queue:
    """Admission for one scheduler: caches each job's shape, since the capacity never changes."""

    def __init__(
        self,
        store: Store,
        capacity: Capacity,
        spec_of: Callable[[Job], LaunchSpec],
        release: Callable[[int], None] = lambda job_id: None,
    ) -> None:
        self.store = store
        self.capacity = capacity
        self._spec_of = spec_of
        self._release = release  # spec_of's cached spec of a job, no longer needed
        self._shapes: dict[int, JobShape] = {}
        self._tail: _Tail | None = None
        self.last_read = 0  # QUEUED jobs the last step read: the head, or all of the queue

    def shape(self, job: Job) -> JobShape:
        shape = self._shapes.get(job.id)
        if shape is None:
            shape = self._shapes[job.id] = job_shape(self._spec_of(job), self.capacity)
        return shape

    def reset(self) -> None:
        """Forget what this scheduler knew of the queue (another one may have scheduled)."""
        self._shapes.clear()
        self._tail = None

    def step(self, waiting: Sequence[Job], holding: Sequence[Job], now_us: int) -> StepResult:
        """Decide the waiting jobs (new ones, not yet QUEUED) and the QUEUED ones, read from
        the store in queue order, and apply the decisions; returns the jobs admitted, ready
        to launch.

        The queue is read from its head, a page at a time, and only as far as a job could
        still start in this pass or a stored reason could have changed (see _Tail).
        `holding`: the jobs that hold an allocation now (the caller leaves out those that
        ended earlier in this pass: only its scheduler ends jobs).
        """
        result = StepResult()
        new = sorted(waiting, key=queue_order)
        pages = queued_pages(self.store, FIRST_PAGE_ROWS, MOST_PAGE_ROWS)
        try:
            self._step(result, new, holding, now_us, (job for page in pages for job in page))
        finally:
            pages.close()
        self.last_read = result.queued_read
        return result

    def _step(
        self, result: StepResult, new: list[Job], holding: Sequence[Job], now_us: int, queued: Iterator[Job]
    ) -> None:
        next_queued = next(queued, None)
        if not new and next_queued is None:
            self._tail = None
            return
        holders = [self._holder(j, now_us) for j in holding if j.allocation and j.state in HOLDING]
        planner = admission.Planner(self.capacity, holders, now_us)
        tail = self._tail
        rest_least = self._suffix_least(new) if tail is not None else []
        after: QueueKey | None = None  # the last admission's place in the queue
        since = _Fold()  # the jobs decided after it
        last: QueueKey | None = None  # the last job decided in this step
        i = 0
        while True:
            if i < len(new) and (next_queued is None or queue_order(new[i]) < queue_order(next_queued)):
                job, i = new[i], i + 1
            elif next_queued is None:
                break
            else:
                if (
                    tail is not None
                    and _beyond(queue_order(next_queued), tail.after)
                    and self._tail_holds(planner, tail, rest_least[i], now_us)
                ):
                    # The unread rest of the queue stands as the last full read left it:
                    # decide the new jobs among it (none can start) and count them in.
                    fold = _Fold(tail.least, tail.deadline_us, {k: set(v) for k, v in tail.needs.items()})
                    for job in new[i:]:
                        decided = self._decide(planner, job, result, keep=True)
                        if decided is not None:
                            fold.add(decided[1])
                    self._tail = fold.tail(_later(tail.after, last), tail.free, tail.blocked)
                    return
                job, next_queued = next_queued, next(queued, None)
                result.queued_read += 1
            if is_placing(job):
                continue  # a holder, read by the pass (Store.placing_jobs), not a candidate
            last = queue_order(job)
            keep = job.state is not JobState.QUEUED or result.queued_read <= CACHED_HEAD
            decided = self._decide(planner, job, result, keep)
            if decided is None:
                continue
            decision, candidate = decided
            if isinstance(decision, admission.Admit):
                after, since = candidate.order, _Fold()
            else:
                since.add(candidate)
        # Every waiting job was decided in this step (the whole queue was read): what is beyond
        # the last admission is known afresh.
        self._tail = since.tail(after, planner.free, planner.blocked_projects())

    def _suffix_least(self, new: Sequence[Job]) -> list[tuple[bool, Resources | None]]:
        """For each i, whether every spec of new[i:] can be read (if not, the step reads on and
        fails that job in its place) and the least need among them (None: there are none)."""
        suffix: list[tuple[bool, Resources | None]] = [(True, None)] * (len(new) + 1)
        for i in range(len(new) - 1, -1, -1):
            readable, least = suffix[i + 1]
            try:
                suffix[i] = (readable, _meet(least, self.shape(new[i]).need))
            except ApiError:
                suffix[i] = (False, least)
        return suffix

    def _tail_holds(
        self, planner: admission.Planner, tail: _Tail, new: tuple[bool, Resources | None], now_us: int
    ) -> bool:
        """Whether the QUEUED jobs beyond `tail.after`, and the new jobs among them (`new`: see
        _suffix_least), would all be decided as the last full read decided them: none expires,
        none can start, and what their reasons say (what is free, the projects' slots) has
        not changed."""
        readable, new_least = new
        if not readable or now_us >= tail.deadline_us or planner.blocked_projects() != tail.blocked:
            return False
        least = _meet(tail.least, new_least)
        if least is not None and not planner.blocks(least):
            return False
        free = planner.free
        for kind, amounts in tail.needs.items():
            was, now = tail.free.amount(kind), free.amount(kind)
            if was != now and any(exceeds(a, was) != exceeds(a, now) for a in amounts):
                return False  # some waiting job is short of this kind now and was not, or the reverse
        return True

    def _decide(
        self, planner: admission.Planner, job: Job, result: StepResult, keep: bool
    ) -> tuple[admission.Decision, admission.Candidate] | None:
        """Decide one job and apply the decision; None when its spec cannot be read. A job not
        kept (deep in a full read, not admitted) leaves no cached spec or shape behind."""
        try:
            candidate = self._candidate(job)
        except ApiError as exc:  # its spec cannot be read (kms/: its key was disabled)
            self._fail(job, exc.code, exc.message, result)
            return None
        decision = planner.decide(candidate)
        with job_context(names.job_name(job.project, job.location, job.id), job.attempt):
            self._apply(job, decision, result)
        if keep or isinstance(decision, admission.Admit):
            result.kept.add(job.id)
        else:
            self._shapes.pop(job.id, None)
            self._release(job.id)
        return decision, candidate

    def forget(self, live: set[int]) -> None:
        for job_id in [j for j in self._shapes if j not in live]:
            del self._shapes[job_id]

    def _holder(self, job: Job, now_us: int) -> admission.Holder:
        assert job.allocation is not None
        try:
            timeout_us = self._spec_of(job).timeout_s * 1e6
        except ApiError:  # unreadable now (kms/): estimate it ends at the longest timeout
            timeout_us = DEFAULT_TIMEOUT_S * 1e6
        if job.state is JobState.CANCELLING:
            end_us = float(now_us)
        elif job.start_us is not None:
            end_us = max(job.start_us + timeout_us, now_us)
        else:
            end_us = now_us + timeout_us
        return admission.Holder(job.id, job.project, job.allocation, end_us)

    def _candidate(self, job: Job) -> admission.Candidate:
        spec = self._spec_of(job)
        return admission.Candidate(
            job_id=job.id,
            project=job.project,
            priority=job.priority,
            create_us=job.create_us,
            shape=self.shape(job),
            timeout_s=spec.timeout_s,
            max_wait_s=spec.max_wait_s,
        )

    def _apply(self, job: Job, decision: admission.Decision, result: StepResult) -> None:
        if isinstance(decision, admission.Admit):
            admitted = self._admit(job, decision)
            if admitted is not None:
                result.admitted.append(admitted)
        elif isinstance(decision, admission.Wait):
            self._wait(job, decision)
        else:
            self._fail(job, RpcCode.RESOURCE_EXHAUSTED, decision.message, result)

    def _fail(self, job: Job, code: RpcCode, message: str, result: StepResult) -> None:
        if transitions.move(self.store, job, JobState.FAILED, error_code=int(code), error_message=message):
            log.info("job %s: not started: %s", job.id, message)
            result.failed += 1

    def _admit(self, job: Job, decision: admission.Admit) -> Job | None:
        allocation = decision.allocation
        # A PENDING job's grant is written with its launch's claim (Scheduler._launch), in the
        # same pass: a pass that stops first leaves it unadmitted, to be decided again.
        if job.state is JobState.QUEUED:
            admitted = "admitted: every replica fits"
            runtime = {"allocation": allocation, "queue_reason": None}
            if not transitions.move(self.store, job, JobState.PENDING, message=admitted, runtime=runtime):
                return None  # cancelled meanwhile: it ends holding nothing
        shape = self.shape(job)
        if shape.runs_alone:
            log.info(
                "job %s: asks for %s, more than this machine has (%s): it runs alone, each replica "
                "capped to the machine (lenient capacity)",
                job.id,
                shape.asked.describe(),
                self.capacity.total.describe(),
            )
        gpus = {kind: sorted(i) for kind, i in allocation.gpu_indices().items()}
        log.info(
            "job %s: admitted (%g vCPUs, %g GB, GPUs %s)", job.id, allocation.cpus, allocation.memory_gb, gpus
        )
        return dataclasses.replace(job, state=JobState.PENDING, allocation=allocation, queue_reason=None)

    def _wait(self, job: Job, decision: admission.Wait) -> None:
        reason = decision.reason
        if job.state is JobState.PENDING:
            transitions.move(
                self.store, job, JobState.QUEUED, message=reason, runtime={"queue_reason": reason}
            )
        elif job.queue_reason != reason:
            self.store.update_runtime(job.id, job.state, queue_reason=reason)


@dataclass
class _Fold:
    """What a _Tail says of some waiting jobs: their least need, every amount they need of
    each kind of resource, and their earliest maxWaitDuration expiry."""

    least: Resources | None = None
    deadline_us: float = math.inf
    needs: dict[str, set[float]] = field(default_factory=dict)

    def add(self, candidate: admission.Candidate) -> None:
        need = candidate.shape.need
        self.least = _meet(self.least, need)
        for kind, amount in need.amounts().items():
            self.needs.setdefault(kind, set()).add(amount)
        if candidate.max_wait_s:
            self.deadline_us = min(self.deadline_us, candidate.create_us + candidate.max_wait_s * 1e6)

    def tail(self, after: QueueKey | None, free: Resources, blocked: frozenset[str]) -> _Tail:
        needs = {kind: frozenset(amounts) for kind, amounts in self.needs.items()}
        return _Tail(after, free, blocked, self.least, needs, self.deadline_us)


def _meet(a: Resources | None, b: Resources | None) -> Resources | None:
    if a is None:
        return b
    return a if b is None else a.meet(b)


def _beyond(key: QueueKey, after: QueueKey | None) -> bool:
    return after is None or key > after


def _later(a: QueueKey | None, b: QueueKey | None) -> QueueKey | None:
    if a is None:
        return b
    return a if b is None else max(a, b)
