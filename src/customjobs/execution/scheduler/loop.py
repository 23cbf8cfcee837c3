"""The scheduler: one reconcile pass (run_once) and the loop that repeats it.

It is the only place that turns backend facts into job states. Every pass reads the
active jobs from the store, so a restarted server simply picks up where the last one
left off: replicas that kept running are re-attached through their stored handles.

With several servers on one database only the holder of the scheduler lease runs passes,
and it checks the lease before every job; a launch is still guarded by a compare-and-set
on the job's attempt number, so even two schedulers never start the same attempt.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from customjobs import names
from customjobs.clock import now_us
from customjobs.config import Settings
from customjobs.domain.job import Job, Outcome
from customjobs.domain.spec import LaunchSpec
from customjobs.domain.states import ACTIVE, JobState
from customjobs.errors import ApiError, RpcCode
from customjobs.execution import transitions
from customjobs.execution.backends.base import ExecutionBackend, Handle, LaunchError, LaunchRequest
from customjobs.execution.capacity import Capacity
from customjobs.execution.logs.files import LogLayout, tail
from customjobs.execution.logs.index import LogIndexer
from customjobs.execution.scheduler import outcomes
from customjobs.execution.scheduler.lease import LeaseKeeper
from customjobs.execution.scheduler.queueing import Queue, StepResult, is_placing, is_waiting
from customjobs.store.base import AttemptClaim, Store
from customjobs.store.outage import StoreUnavailable
from customjobs.telemetry.context import job_context
from customjobs.telemetry.metrics import Metrics
from customjobs.webaccess.uris import web_access_uris
from customjobs.wire.launch import launch_spec

log = logging.getLogger(__name__)

_T = TypeVar("_T")

# What every pass reads whole: the active jobs but the QUEUED ones.
_READ_WHOLE = ACTIVE - {JobState.QUEUED}

# Jobs launched together: one write claims their attempts, one more moves them to RUNNING.
# A bound, so the first of a long admission runs (and the writer is free) before the last starts.
LAUNCH_BATCH = 64

# Left in an attempt's folder when the job restarts: that attempt is over for good.
ATTEMPT_ENDED = "attempt-ended"


@dataclass(frozen=True)
class _Ready:
    """A launch prepared up to its claim (Scheduler._prepare)."""

    job: Job
    attempt: int
    request: LaunchRequest
    claim: AttemptClaim


@dataclass(frozen=True)
class PassResult:
    """What one pass did: jobs it found active, admitted, moved to RUNNING, and ended."""

    active: int
    admitted: int = 0
    launched: int = 0
    finished: int = 0


class Scheduler:
    def __init__(
        self,
        store: Store,
        backend: ExecutionBackend,
        layout: LogLayout,
        settings: Settings,
        lease: LeaseKeeper | None = None,
        metrics: Metrics | None = None,
        capacity: Capacity | None = None,
    ) -> None:
        # Without a lease keeper (tests' burst mode) this scheduler assumes it is the only one.
        self.lease = lease
        self.metrics = metrics
        self.store = store
        self.backend = backend
        self.layout = layout
        self.settings = settings
        self._wake = threading.Event()
        self._specs: dict[int, LaunchSpec] = {}
        self.indexer = LogIndexer()
        # Admission (queueing.py): without a capacity, every job is admitted at once.
        self.queue = Queue(store, capacity or Capacity.unlimited(), self._spec, release=self._forget_spec)
        self._launched = self._finished = 0
        self._counting = threading.Lock()
        # Launches run on these threads (none: one at a time, on the scheduler's own).
        self._launcher = (
            ThreadPoolExecutor(settings.launch_threads, thread_name_prefix="launch")
            if settings.launch_threads > 1
            else None
        )
        # The jobs this pass ended: they hold nothing for the admission that follows.
        self._ended: set[int] = set()
        # While a pass looks at every job: the ends it found, written together (_end_all).
        self._ending: list[tuple[Job, Outcome]] | None = None
        # Encrypted jobs (kms/jobdata.py sets these): the readable spec (ApiError when its key is
        # unusable), whether log lines may go into the stored error, and sealing data at the end.
        self.open_spec: Callable[[Job], str] = lambda job: job.spec_json
        self.hides_logs: Callable[[Job], bool] = lambda job: False
        self.on_ended: Callable[[Job], None] = lambda job: None
        # Resources' controller passes (resources/*/controller.py), run first in every pass so
        # the executions they submit start in the same pass; each returns its active count.
        self.controllers: list[Callable[[], int]] = []

    def wake(self) -> None:
        self._wake.set()

    def run_forever(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                self._wake.clear()
                if not self._holds_lease():
                    # Work created here is in the database: the holder finds it on its next poll.
                    # What this server remembered may be stale once another one has scheduled.
                    self._specs.clear()
                    self.queue.reset()
                    self.indexer = LogIndexer()
                    self._wake.wait(self.lease.retry_s if self.lease else 0.0)
                    continue
                try:
                    active = self.run_once().active
                except StoreUnavailable:
                    # Logged once per outage by the store (store/outage.py), not once per pass;
                    # the next pass starts over from what the store holds when it is back.
                    active = 1
                except Exception:
                    log.exception("scheduler pass failed; retrying")
                    active = 1
                settings = self.settings
                tick = settings.active_tick_s if active else min(settings.idle_tick_s, settings.peer_poll_s)
                self._wake.wait(tick)
        finally:
            # Only now, with no more work in flight here, may a peer take over.
            if self.lease is not None:
                self.lease.release()

    def _holds_lease(self) -> bool:
        """The check before every pass and every job: local, no database call (the renewer
        thread keeps the lease); it also tells the renewer this scheduler is not stuck."""
        if self.lease is None:
            return True
        self.lease.beat()
        return self.lease.held()

    def run_once(self) -> PassResult:
        """One pass: reconcile every admitted job, then admit what fits now (admission.py)
        and launch it. Returns what it did."""
        self._launched = self._finished = 0
        self._ended.clear()
        owners_active = 0
        for controller in self.controllers:
            try:
                owners_active += controller()
            except StoreUnavailable:
                raise  # the pass ends (run_forever)
            except Exception:
                log.exception("controller pass failed; retrying on the next pass")
        # QUEUED jobs are read by admission, from the head of the queue and only as far as it
        # needs (queueing.py): a long queue on a full machine costs a pass almost nothing.
        jobs = self.store.jobs_in_states(_READ_WHOLE)
        # Admitted jobs the backend has not placed yet: they hold their allocation and are
        # asked again every pass (_launch), while other jobs start and end around them.
        jobs += self.store.placing_jobs()
        waiting = [job for job in jobs if is_waiting(job)]
        step = StepResult()
        # The jobs that end in this pass are written together, after every job was looked at.
        self._ending = []
        try:
            reconciled = all(self._reconcile_one(job) for job in jobs if not is_waiting(job))
        finally:
            ending, self._ending = self._ending, None
        if reconciled:
            self._end_all(ending)
            holding = [j for j in jobs if j.allocation and not is_waiting(j) and j.id not in self._ended]
            step = self._admit(waiting, holding)
            self._launch_all(step.admitted)
        live = {j.id for j in jobs} | step.kept
        for job_id in list(self._specs):
            if job_id not in live:
                del self._specs[job_id]
        self.queue.forget(live)
        active = len(jobs) + step.queued_read + owners_active
        return PassResult(active, len(step.admitted), self._launched, self._finished)

    def _launch_all(self, admitted: list[Job]) -> None:
        """Launch the jobs admitted in this pass, in batches: a batch's attempts claimed in
        one write, its replicas started several at once (a start mostly waits on a fork and
        exec, or a container CLI), its moves to RUNNING in one more write. Each claim is
        still a compare-and-set of its own, which keeps every launch exactly-once."""
        if len(admitted) < 2 or self._launcher is None:
            for job in admitted:
                if not self._reconcile_one(job):
                    return
            return
        for first in range(0, len(admitted), LAUNCH_BATCH):
            if not self._holds_lease():
                return
            self._launch_batch(admitted[first : first + LAUNCH_BATCH])

    def _launch_batch(self, batch: list[Job]) -> None:
        assert self._launcher is not None
        # Preparing may wait too (a Ray backend places a placement group).
        prepared = self._launcher.map(lambda job: self._guarded(job, "launch", self._prepare, job), batch)
        ready = [r for r in prepared if r is not None]
        won = self.store.claim_attempts([r.claim for r in ready])
        claimed = [r for r, ok in zip(ready, won, strict=True) if ok]
        handles = self._launcher.map(lambda r: self._guarded(r.job, "launch", self._start, r), claimed)
        pairs = zip(claimed, handles, strict=True)
        started = [(r.job, r.attempt, handle, True) for r, handle in pairs if handle is not None]
        self._started_all(started)

    def _guarded(self, job: Job, what: str, step: Callable[..., _T], *args: Any) -> _T | None:
        """One job's step of a batch, as _reconcile_one runs a job: logged, never fatal to the
        batch, but for the store being gone (the pass ends)."""
        with job_context(names.job_name(job.project, job.location, job.id), job.attempt):
            try:
                return step(*args)
            except StoreUnavailable:
                raise
            except Exception:
                log.exception("job %s: %s failed (attempt %s)", job.id, what, job.attempt)
                return None

    def _reconcile_one(self, job: Job) -> bool:
        """False once this server no longer holds the scheduler lease: the pass stops there."""
        if not self._holds_lease():
            return False
        with job_context(names.job_name(job.project, job.location, job.id), job.attempt):
            try:
                self._reconcile(job)
            except StoreUnavailable:
                raise  # every later job would fail the same way: the pass ends (run_forever)
            except Exception:
                log.exception("job %s: reconcile failed (attempt %s)", job.id, job.attempt)
        return True

    def _admit(self, waiting: list[Job], holding: list[Job]) -> StepResult:
        """The waiting jobs that fit now, admitted (queueing.py) and ready to launch."""
        if not self._holds_lease():
            return StepResult()
        try:
            step = self.queue.step(waiting, holding, now_us())
        except StoreUnavailable:
            self.queue.reset()
            raise  # the pass ends (run_forever)
        except Exception:
            self.queue.reset()
            log.exception("admission failed; retrying on the next pass")
            return StepResult()
        for _ in range(step.failed):
            self._observe_finished(JobState.FAILED)
        return step

    def run_until_idle(self, max_passes: int = 10_000) -> None:
        """Burst mode for tests: reconcile until no job is active."""
        for _ in range(max_passes):
            if not self.run_once().active:
                return
            self._wake.wait(self.settings.active_tick_s)
            self._wake.clear()

    # one job -----------------------------------------------------------------

    def _reconcile(self, job: Job) -> None:
        if job.state is JobState.QUEUED:
            if is_placing(job):
                self._launch(job)  # admitted: is its placement ready now?
            return  # otherwise it waits for admission (run_once)
        if job.handle is None:
            if job.state is JobState.CANCELLING:
                self._finish(job, outcomes.cancelled())
            elif job.state is JobState.PENDING:
                self._launch(job)
        elif job.state is JobState.PENDING:
            # The handle was stored but the server died before the move to RUNNING.
            if transitions.move(
                self.store, job, JobState.RUNNING, message="replicas found running after a restart"
            ):
                self._observe_running(job)
        else:
            self._watch(job)

    def _forget_spec(self, job_id: int) -> None:
        self._specs.pop(job_id, None)

    def _spec(self, job: Job) -> LaunchSpec:
        spec = self._specs.get(job.id)
        if spec is None:
            spec = self._specs[job.id] = launch_spec(self.open_spec(job))
        return spec

    def _request(self, job: Job, attempt: int) -> LaunchRequest:
        return LaunchRequest(
            job_id=job.id,
            project=job.project,
            attempt=attempt,
            spec=self._spec(job),
            workdir=self.layout.attempt_dir(job.id, attempt),
            allocation=job.allocation,
        )

    def _launch(self, job: Job) -> None:
        ready = self._prepare(job)
        if ready is None or not self.store.claim_attempts([ready.claim])[0]:
            return
        handle = self._start(ready)
        if handle is not None:
            self._started(ready.job, ready.attempt, handle, True)

    def _prepare(self, job: Job) -> _Ready | None:
        """Everything a launch does before it claims its attempt; None when it ends here
        (failed, re-attached, waiting for its placement, cancelled meanwhile)."""
        try:
            self._spec(job)
        except ApiError as exc:  # its encryption key was disabled after create
            self._failed(job, int(exc.code), exc.message)
            return None
        if job.attempt > 0 and not self._attempt_ended(job):
            # attempt is recorded before replicas start: a server died mid-launch.
            request = self._request(job, job.attempt)
            names_ = [n for p in request.spec.pools for n in p.replica_names()]
            handle = self.backend.reattach(request, names_)
            if handle is not None:
                log.warning("job %s: re-attached to a launch interrupted by a restart", job.id)
                self._started(job, job.attempt, handle, len(handle["replicas"]) == len(names_))
                return None
            # No replica of that attempt ever started: launch a new attempt below.
        attempt = job.attempt + 1
        request = self._request(job, attempt)
        try:
            waits_for = self.backend.place(request)
        except LaunchError as exc:
            self._failed(job, int(RpcCode.INVALID_ARGUMENT), str(exc))
            return None
        if waits_for is not None:
            self._await_placement(job, request, waits_for)
            return None
        if job.state is JobState.QUEUED:
            placed = "placed: every replica fits"
            if not transitions.move(
                self.store, job, JobState.PENDING, message=placed, runtime={"queue_reason": None}
            ):
                self.backend.unplace(job.id, attempt)  # cancelled meanwhile
                return None
            job = dataclasses.replace(job, state=JobState.PENDING, queue_reason=None)
        # Whoever moves the attempt number from what it read wins the launch; a scheduler that
        # lost its lease (or a second one by mistake) finds it moved and starts nothing.
        claim = AttemptClaim(job.id, JobState.PENDING, job.attempt, job.allocation)
        return _Ready(job, attempt, request, claim)

    def _start(self, ready: _Ready) -> Handle | None:
        """The claimed attempt's replicas started: their handle, or None (the job failed)."""
        job, request = ready.job, ready.request
        if ready.attempt > 1:
            self._note_attempt(request)
        try:
            return self.backend.start(request)
        except LaunchError as exc:
            self._failed(job, int(RpcCode.INVALID_ARGUMENT), str(exc))
        except Exception as exc:
            log.exception("job %s: launch failed", job.id)
            self._failed(job, int(RpcCode.INTERNAL), f"Internal error occurred while starting the job: {exc}")
        return None

    def _await_placement(self, job: Job, request: LaunchRequest, reason: str) -> None:
        """The backend cannot place the admitted job yet: it waits QUEUED with the backend's
        reason, keeping its allocation, until it is placed or its maxWaitDuration passes."""
        max_wait_s = request.spec.max_wait_s
        if max_wait_s and now_us() - job.create_us > max_wait_s * 1e6:
            self.backend.unplace(job.id, request.attempt)
            message = (
                f"The job waited longer than its maxWaitDuration of {max_wait_s:g}s "
                f"(job_spec.scheduling.max_wait_duration) and was never started: {reason}"
            )
            self._failed(job, int(RpcCode.RESOURCE_EXHAUSTED), message)
            return
        if job.state is JobState.PENDING:
            # Its grant from admission too: a job admitted in this pass has not written it yet.
            runtime = {"queue_reason": reason, "allocation": job.allocation}
            if transitions.move(self.store, job, JobState.QUEUED, message=reason, runtime=runtime):
                log.info("job %s: admitted, waiting for its placement: %s", job.id, reason)
        elif job.queue_reason != reason:
            self.store.update_runtime(job.id, job.state, queue_reason=reason)

    def _restart(self, job: Job, outcome: Outcome) -> None:
        """Every replica of the attempt has stopped: start the job over as a new attempt."""
        if job.state is JobState.CANCELLING:
            # A cancel arrived while the gang was being stopped for a restart: honour the cancel.
            self._finish(job, outcomes.cancelled())
            return
        # Marked first: once the job is PENDING again, this attempt must never be re-attached.
        (self.layout.attempt_dir(job.id, job.attempt) / ATTEMPT_ENDED).touch()
        if transitions.move(
            self.store, job, JobState.PENDING, message=outcome.error_message, reset_runtime=True
        ):
            assert job.handle is not None
            self.backend.release(job.handle)
            log.warning("job %s: %s", job.id, outcome.error_message)
            self.wake()

    def _attempt_ended(self, job: Job) -> bool:
        return (self.layout.attempt_dir(job.id, job.attempt) / ATTEMPT_ENDED).exists()

    def _note_attempt(self, request: LaunchRequest) -> None:
        """A first line in each replica's log of a retried job, so the attempts show in the logs."""
        request.workdir.mkdir(parents=True, exist_ok=True)
        line = f"customjobs: attempt {request.attempt} of job {request.job_id} (the job was restarted)\n"
        for pool in request.spec.pools:
            for name in pool.replica_names():
                with open(request.log_path(name), "a") as log_file:
                    log_file.write(line)

    def _failed(self, job: Job, code: int, message: str) -> None:
        if transitions.move(self.store, job, JobState.FAILED, error_code=code, error_message=message):
            self._ended.add(job.id)
            self._observe_finished(JobState.FAILED)

    def _started(self, job: Job, attempt: int, handle: Handle, complete: bool) -> None:
        self._started_all([(job, attempt, handle, complete)])

    def _started_all(self, launches: list[tuple[Job, int, Handle, bool]]) -> None:
        """Each launch's usual end in one write (all of them in one commit): its handle, its
        shells' URIs (cleared by _finish) and RUNNING, if the job is still PENDING on that
        attempt."""
        moves = []
        for job, attempt, handle, complete in launches:
            runtime: dict[str, object] = {"handle": handle}
            uris = web_access_uris(self.settings.server_url, job.id, self._spec(job))
            if uris:
                runtime["web_access_uris"] = uris
            message = "all replicas started" if complete else "some replicas were not started"
            moves.append(
                transitions.Move(job, JobState.RUNNING, message=message, runtime=runtime, attempt=attempt)
            )
        if not moves:
            return
        for (job, attempt, handle, _), moved in zip(
            launches, transitions.move_all(self.store, moves), strict=True
        ):
            if moved:
                self._observe_running(job)
            # Otherwise stored in whatever state the job is now: a cancel that raced the launch
            # must see the replicas to stop them.
            elif not self.store.attach_handle(job.id, attempt, handle):
                # Another scheduler claimed a newer attempt meanwhile: these replicas are nobody's.
                log.warning("job %s: attempt %d was superseded; stopping its replicas", job.id, attempt)
                self.backend.stop(handle, force=True)
        self.wake()

    def _observe_running(self, job: Job) -> None:
        with self._counting:
            self._launched += 1
        if self.metrics is not None:
            self.metrics.job_running(job.create_us, now_us())

    def _observe_finished(self, state: JobState) -> None:
        with self._counting:
            self._finished += 1
        if self.metrics is not None:
            self.metrics.job_finished(state)

    def _watch(self, job: Job) -> None:
        assert job.handle is not None  # _reconcile only calls this with a handle
        self._index_logs(job)
        outcome = job.outcome
        if outcome is None:
            outcome = self._decide(job)
            if outcome is None:
                return
            if self.backend.all_stopped(job.handle):
                # Nothing left to stop (the usual end of a one-replica job): end it now, with no
                # outcome to keep; a crash before the move just decides the same again.
                self._index_logs(job, forget=True)
                self._finish(job, outcome)
                return
            stamp = now_us()
            if not self.store.update_runtime(job.id, job.state, outcome=outcome, stop_requested_us=stamp):
                return
            job.stop_requested_us = stamp
            log.info("job %s: ending as %s; stopping its replicas", job.id, outcome.state.value)
            self.backend.stop(job.handle, force=False)
        if self.backend.all_stopped(job.handle):
            self._index_logs(job, forget=True)
            self._finish(job, outcome)
            return
        waited_s = (now_us() - (job.stop_requested_us or now_us())) / 1e6
        if waited_s >= self.settings.stop_grace_s:
            log.warning("job %s: replicas outlived %.1fs after SIGTERM; sending SIGKILL", job.id, waited_s)
            self.backend.stop(job.handle, force=True)

    def _index_logs(self, job: Job, forget: bool = False) -> None:
        """Note how far each replica's log has grown, and when: the lines' timestamps."""
        assert job.handle is not None
        stamp = now_us()
        attempt_dir = self.layout.attempt_dir(job.id, job.attempt)
        for replica in job.handle["replicas"]:
            path = attempt_dir / f"{replica['name']}.log"
            self.indexer.index(path, stamp)
            if forget:
                self.indexer.forget(path)

    def _decide(self, job: Job) -> Outcome | None:
        assert job.handle is not None
        facts = self.backend.poll(job.handle)
        try:
            spec = self._spec(job)
        except ApiError as exc:  # its key was disabled, and this server restarted since launch
            return Outcome(JobState.FAILED, int(exc.code), exc.message)
        timed_out = None
        if job.start_us is not None and now_us() - job.start_us > spec.timeout_s * 1e6:
            timed_out = spec.timeout_s
        name = names.job_name(job.project, job.location, job.id)
        decided = outcomes.decide(
            facts,
            spec.pools[0].index,
            timed_out,
            log_tail=lambda replica: (
                []
                if self.hides_logs(job)
                else tail(
                    self.layout.attempt_dir(job.id, job.attempt) / f"{replica}.log",
                    self.settings.error_log_lines,
                )
            ),
            log_hint=lambda replica: f"GET /customjobs/v1/{name}/logs?replica={replica}",
        )
        if decided is None and job.state is JobState.CANCELLING:
            return outcomes.cancelled()
        if decided is not None and job.state is JobState.RUNNING:
            reason = outcomes.restart_reason(
                decided, job.attempt, spec.restart_job_on_worker_restart, spec.disable_retries
            )
            if reason is not None:
                return outcomes.restart(reason)
        return decided

    def _finish(self, job: Job, outcome: Outcome) -> None:
        target = outcome.state
        if target is JobState.CANCELLED and job.state is not JobState.CANCELLING:
            return
        if target is JobState.PENDING:
            self._restart(job, outcome)
            return
        if self._ending is not None:
            self._ending.append((job, outcome))  # written with the pass's other ends (_end_all)
            return
        self._end_all([(job, outcome)])

    def _end_all(self, ending: list[tuple[Job, Outcome]]) -> None:
        """Jobs whose replicas have all stopped, moved to their end state in one write."""
        ready = [(job, o) for job, o in ending if self._guarded(job, "end", self._before_end, job)]
        moves = [
            transitions.Move(job, o.state, error_code=o.error_code, error_message=o.error_message)
            for job, o in ready
        ]
        if not moves:
            return
        for (job, outcome), moved in zip(ready, transitions.move_all(self.store, moves), strict=True):
            if moved:
                self._ended.add(job.id)
                self._observe_finished(outcome.state)
            if moved and job.handle is not None:
                self.backend.release(job.handle)
            elif moved and job.allocation is not None:
                # Ended before it started (cancelled while it waited for its placement, say):
                # what the backend reserved for its next attempt goes.
                self.backend.unplace(job.id, job.attempt + 1)
            self._specs.pop(job.id, None)

    def _before_end(self, job: Job) -> bool:
        if job.web_access_uris:  # its shells and dashboard are gone with its replicas
            self.store.update_runtime(job.id, job.state, web_access_uris={})
        self.on_ended(job)
        return True
