"""Two schedulers on one store never start the same job twice (the attempt compare-and-set).

The lease keeps a second scheduler away in normal operation; these tests take the lease
away on purpose (schedulers built without one) to show that the launch path alone holds.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from customjobs.config import Settings
from customjobs.domain.job import NewJob
from customjobs.domain.states import JobState
from customjobs.execution.backends.base import Handle, LaunchError, LaunchRequest, ReplicaFact, ReplicaStatus
from customjobs.execution.logs.files import LogLayout
from customjobs.execution.scheduler.loop import Scheduler
from customjobs.store.sql.store import SqlStore

SPEC = (
    '{"jobSpec": {"workerPoolSpecs": [{"machineSpec": {"machineType": "n1-standard-4"}, '
    '"replicaCount": "1", "containerSpec": {"imageUri": "local", "command": ["true"]}}]}}'
)
JOBS = 20


class CountingBackend:
    """Starts nothing: records which (job, attempt) it was asked to start, and what it stopped."""

    name = "counting"

    def __init__(self, during_start: Any = None) -> None:
        self.started: list[tuple[int, int]] = []
        self.stopped: list[Handle] = []
        self.during_start = during_start
        self.lock = threading.Lock()

    def start(self, request: LaunchRequest) -> Handle:
        with self.lock:
            self.started.append((request.job_id, request.attempt))
        if self.during_start is not None:
            self.during_start(request)
        return {"backend": self.name, "replicas": [{"name": "workerpool0-0", "pid": 0}]}

    def poll(self, handle: Handle) -> list[ReplicaFact]:
        return [ReplicaFact("workerpool0-0", ReplicaStatus.RUNNING)]

    def stop(self, handle: Handle, force: bool) -> None:
        self.stopped.append(handle)

    def all_stopped(self, handle: Handle) -> bool:
        return False

    def place(self, request: LaunchRequest) -> str | None:
        return None

    def unplace(self, job_id: int, attempt: int) -> None:
        return None

    def reattach(self, request: LaunchRequest, names: list[str]) -> Handle | None:
        return None

    def release(self, handle: Handle) -> None:
        """This fake holds nothing per job."""

    def close(self) -> None:
        """Nothing to close."""


def scheduler(store: SqlStore, backend: CountingBackend, tmp_path: Path) -> Scheduler:
    settings = Settings(data_dir=tmp_path)
    return Scheduler(store, backend, LogLayout(settings.jobs_dir), settings)


def add_jobs(store: SqlStore, count: int) -> list[int]:
    for job_id in range(1, count + 1):
        store.insert_job(job_id, NewJob("p", "l", f"j{job_id}", {}, SPEC), JobState.PENDING, job_id)
    return list(range(1, count + 1))


def test_racing_schedulers_start_each_job_once(store: SqlStore, tmp_path: Path) -> None:
    ids = add_jobs(store, JOBS)
    backend = CountingBackend()
    schedulers = [scheduler(store, backend, tmp_path) for _ in range(3)]
    barrier = threading.Barrier(len(schedulers))

    def race(s: Scheduler) -> None:
        barrier.wait()
        s.run_once()

    threads = [threading.Thread(target=race, args=(s,)) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(backend.started) == [(i, 1) for i in ids]
    for job_id in ids:
        job = store.get_job(job_id)
        assert job is not None and job.attempt == 1 and job.state is JobState.RUNNING


def test_a_launch_superseded_by_another_scheduler_is_stopped(store: SqlStore, tmp_path: Path) -> None:
    [job_id] = add_jobs(store, 1)

    def successor_claims(request: LaunchRequest) -> None:
        # While this scheduler starts attempt 1, another (the new lease holder) claims attempt 2.
        assert store.claim_attempt(request.job_id, JobState.PENDING, request.attempt)

    backend = CountingBackend(during_start=successor_claims)
    scheduler(store, backend, tmp_path).run_once()

    assert backend.started == [(job_id, 1)]
    assert len(backend.stopped) == 1  # attempt 1's replicas are nobody's: stopped
    job = store.get_job(job_id)
    assert job is not None and job.attempt == 2 and job.handle is None and job.state is JobState.PENDING


def test_in_a_batch_a_superseded_launch_is_stopped_and_a_failed_one_fails_alone(
    store: SqlStore, tmp_path: Path
) -> None:
    ids = add_jobs(store, 6)  # launched as one batch: claims in one write, RUNNING in another

    def during_start(request: LaunchRequest) -> None:
        if request.job_id == 2:  # the new lease holder claims attempt 2 meanwhile
            assert store.claim_attempt(request.job_id, JobState.PENDING, request.attempt)
        if request.job_id == 4:
            raise LaunchError("no such command")

    backend = CountingBackend(during_start=during_start)
    scheduler(store, backend, tmp_path).run_once()

    assert sorted(backend.started) == [(i, 1) for i in ids]
    assert [h["replicas"] for h in backend.stopped] == [[{"name": "workerpool0-0", "pid": 0}]]
    jobs = {i: store.get_job(i) for i in ids}
    states = {i: job.state for i, job in jobs.items() if job is not None}
    assert states == {1: JobState.RUNNING, 2: JobState.PENDING, 3: JobState.RUNNING, 4: JobState.FAILED,
                      5: JobState.RUNNING, 6: JobState.RUNNING}  # fmt: skip
    assert jobs[4] is not None and jobs[4].error_message == "no such command"
    assert jobs[2] is not None and jobs[2].attempt == 2 and jobs[2].handle is None
