"""The scheduler's admission step: waiting jobs in, decisions applied, admitted jobs out.

admission.plan decides; this module feeds it from the store's jobs and writes what it
decided through execution/transitions.py (PENDING -> QUEUED with a reason, QUEUED -> PENDING
when admitted, FAILED when a job waited past its maxWaitDuration) and the job's runtime
columns (its allocation, held from admission until it ends, and its queue reason).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from google.protobuf import json_format

from customjobs import names
from customjobs.domain.job import Job, NewJob
from customjobs.domain.spec import DEFAULT_TIMEOUT_S, LaunchSpec
from customjobs.domain.states import JobState
from customjobs.errors import ApiError, FieldViolation, InvalidArgument, RpcCode
from customjobs.execution import transitions
from customjobs.execution.capacity import Capacity, JobShape, job_shape, never_fits
from customjobs.execution.scheduler import admission
from customjobs.store.base import Store
from customjobs.telemetry.context import job_context
from customjobs.wire.launch import launch_spec

log = logging.getLogger(__name__)

# Jobs whose allocation counts against the machine until they end.
HOLDING = frozenset({JobState.PENDING, JobState.RUNNING, JobState.CANCELLING})


def is_waiting(job: Job) -> bool:
    """Not admitted yet: queued, or pending with neither an allocation nor replicas."""
    if job.state is JobState.QUEUED:
        return True
    return job.state is JobState.PENDING and job.allocation is None and job.handle is None


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


class Queue:
    """Admission for one scheduler: caches each job's shape, since the capacity never changes."""

    def __init__(self, store: Store, capacity: Capacity, spec_of: Callable[[Job], LaunchSpec]) -> None:
        self.store = store
        self.capacity = capacity
        self._spec_of = spec_of
        self._shapes: dict[int, JobShape] = {}

    def shape(self, job: Job) -> JobShape:
        shape = self._shapes.get(job.id)
        if shape is None:
            shape = self._shapes[job.id] = job_shape(self._spec_of(job), self.capacity)
        return shape

    def step(self, waiting: Sequence[Job], holding: Sequence[Job], now_us: int) -> StepResult:
        """Plan over the waiting jobs and apply it; returns the jobs admitted, ready to launch.

        The holders are read again: those that ended earlier in this pass hold nothing now.
        """
        result = StepResult()
        fresh = [self.store.get_job(job.id) for job in holding]
        holders = [self._holder(j, now_us) for j in fresh if j and j.allocation and j.state in HOLDING]
        candidates = []
        for job in waiting:
            try:
                candidates.append(self._candidate(job))
            except ApiError as exc:  # its spec cannot be read (kms/: its key was disabled)
                self._fail(job, exc.code, exc.message, result)
        decisions = admission.plan(self.capacity, holders, candidates, now_us)
        by_id = {job.id: job for job in waiting}
        for decision in decisions:
            job = by_id[decision.job_id]
            with job_context(names.job_name(job.project, job.location, job.id), job.attempt):
                self._apply(job, decision, result)
        return result

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
        if not self.store.update_runtime(job.id, job.state, allocation=allocation, queue_reason=None):
            return None
        if job.state is JobState.QUEUED and not transitions.move(
            self.store, job, JobState.PENDING, message="admitted: every replica fits"
        ):
            return None  # cancelled meanwhile: it holds its allocation until it ends
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
        if job.queue_reason != decision.reason:
            self.store.update_runtime(job.id, job.state, queue_reason=decision.reason)
        if job.state is JobState.PENDING:
            transitions.move(self.store, job, JobState.QUEUED, message=decision.reason)
