"""A pass reads only the head of a long queue (queue_head.py, queueing.py's _Tail), and what it
leaves in the store is what a pass reading the whole queue would leave: order, reasons, expiry."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from customjobs.clock import now_us
from customjobs.config import Settings
from customjobs.domain.job import NewJob
from customjobs.domain.states import JobState
from customjobs.execution.backends.base import Handle, LaunchRequest, ReplicaFact, ReplicaStatus
from customjobs.execution.capacity import Capacity, Resources
from customjobs.execution.logs.files import LogLayout
from customjobs.execution.scheduler import loop
from customjobs.execution.scheduler.loop import Scheduler
from customjobs.execution.scheduler.queue_head import queue_order, queued_pages
from customjobs.store.sql.store import SqlStore

CAPACITY = Capacity(cpus=4, memory_gb=16, strict=True)


class FakeBackend:
    """Replicas that run until the test says they exited."""

    name = "fake"

    def __init__(self) -> None:
        self.exited: set[int] = set()

    def start(self, request: LaunchRequest) -> Handle:
        names = [n for p in request.spec.pools for n in p.replica_names()]
        return {"backend": self.name, "job": request.job_id, "replicas": [{"name": n} for n in names]}

    def poll(self, handle: Handle) -> list[ReplicaFact]:
        status = ReplicaStatus.EXITED if handle["job"] in self.exited else ReplicaStatus.RUNNING
        return [
            ReplicaFact(r["name"], status, 0 if status is ReplicaStatus.EXITED else None)
            for r in handle["replicas"]
        ]

    def stop(self, handle: Handle, force: bool) -> None:
        self.exited.add(handle["job"])

    def all_stopped(self, handle: Handle) -> bool:
        return handle["job"] in self.exited

    def place(self, request: LaunchRequest) -> str | None:
        return None

    def unplace(self, job_id: int, attempt: int) -> None:
        return None

    def reattach(self, request: LaunchRequest, names: list[str]) -> Handle | None:
        return None

    def release(self, handle: Handle) -> None:
        """Nothing held per job."""

    def close(self) -> None:
        """Nothing to close."""


def scheduler(
    store: SqlStore, backend: FakeBackend, tmp_path: Path, capacity: Capacity = CAPACITY
) -> Scheduler:
    settings = Settings(data_dir=tmp_path)
    return Scheduler(store, backend, LogLayout(settings.jobs_dir), settings, capacity=capacity)


def add(
    store: SqlStore, job_id: int, machine: str, priority: int = 0, project: str = "p", **scheduling: str
) -> int:
    pool = {"machineSpec": {"machineType": machine}, "replicaCount": "1"}
    pool["containerSpec"] = {"imageUri": "x", "command": ["true"]}
    spec: dict[str, object] = {"workerPoolSpecs": [pool]}
    if scheduling:
        spec["scheduling"] = scheduling
    labels = {"customjobs-priority": str(priority)} if priority else {}
    new = NewJob(project, "l", f"job-{job_id}", labels, json.dumps({"jobSpec": spec}))
    store.insert_job(job_id, new, JobState.PENDING, now_us() - 1_000_000 + job_id)
    return job_id


def snapshot(store: SqlStore) -> dict[int, tuple[JobState, str | None, bool]]:
    """Every job's state, queue reason and whether it holds an allocation."""
    jobs = store.jobs_in_states(frozenset(JobState))
    return {j.id: (j.state, j.queue_reason, j.allocation is not None) for j in jobs}


def test_pages_walk_the_queue_in_order_across_priorities(store: SqlStore, tmp_path: Path) -> None:
    s = scheduler(store, FakeBackend(), tmp_path)
    add(store, 1, "n1-standard-4")
    for job_id in range(2, 40):
        add(store, job_id, "n1-standard-4", priority=[0, 5, -3, 5, 1][job_id % 5])
    s.run_once()

    pages = list(queued_pages(store, 2, 8))
    read = [job.id for page in pages for job in page]
    assert [len(p) for p in pages][:3] == [2, 2, 1] or max(len(p) for p in pages) <= 8
    positions = store.queue_positions(read)
    assert read == sorted(positions, key=positions.__getitem__)
    assert read == [j.id for j in sorted(store.jobs_in_states(frozenset({JobState.QUEUED})), key=queue_order)]
    assert len(read) == 38


def test_a_full_machine_reads_the_head_alone_and_the_queue_moves_in_order(
    store: SqlStore, tmp_path: Path
) -> None:
    backend = FakeBackend()
    s = scheduler(store, backend, tmp_path)
    add(store, 1, "n1-standard-4")
    for job_id in range(2, 60):
        add(store, job_id, "n1-standard-4", priority=job_id % 3)
    s.run_once()
    assert s.queue.last_read == 0  # they were new (PENDING): all decided, none read as QUEUED
    reasons = snapshot(store)

    assert s.run_once().admitted == 0
    assert s.queue.last_read <= 1
    assert snapshot(store) == reasons

    order = [j.id for j in sorted(store.jobs_in_states(frozenset({JobState.QUEUED})), key=queue_order)]
    started = []
    for _ in range(4):
        running = [j for j in store.jobs_in_states(frozenset({JobState.RUNNING}))]
        backend.exited.update(j.id for j in running)
        s.run_once()
        s.run_once()
        started += [j.id for j in store.jobs_in_states(frozenset({JobState.RUNNING}))]
    assert started == order[:4]


def test_a_smaller_job_taking_a_larger_ones_place_keeps_the_pass_short(
    store: SqlStore, tmp_path: Path
) -> None:
    """What is free changes (4 vCPUs held, then 2), but no waiting job's reason does: the
    queue behind the head is still not read."""
    backend = FakeBackend()
    s = scheduler(store, backend, tmp_path)
    add(store, 1, "n1-standard-4")
    add(store, 2, "n1-standard-2")
    for job_id in range(3, 40):
        add(store, job_id, "n1-standard-4")
    s.run_once()
    backend.exited.add(1)
    assert s.run_once().admitted == 1
    assert store.get_job(2).state is JobState.RUNNING  # type: ignore[union-attr]
    s.run_once()
    assert s.queue.last_read <= 1
    before = snapshot(store)
    fresh = scheduler(store, backend, tmp_path)
    fresh.run_once()
    assert fresh.queue.last_read == 37  # a full read...
    assert snapshot(store) == before  # ...changes nothing


def test_a_job_deep_in_the_queue_expires_on_time(
    store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = scheduler(store, FakeBackend(), tmp_path)
    add(store, 1, "n1-standard-4")
    for job_id in range(2, 40):
        add(store, job_id, "n1-standard-4")
    add(store, 40, "n1-standard-4", maxWaitDuration="60s")
    s.run_once()
    s.run_once()
    assert store.get_job(40).state is JobState.QUEUED  # type: ignore[union-attr]

    later = now_us() + 61_000_000
    monkeypatch.setattr(loop, "now_us", lambda: later)
    s.run_once()
    job = store.get_job(40)
    assert job is not None and job.state is JobState.FAILED and "maxWaitDuration" in (job.error_message or "")


def test_resources_meet_is_the_least_of_both() -> None:
    a = Resources(4, 15, {"T4": 2, "V100": 1})
    b = Resources(2, 30, {"T4": 1})
    assert a.meet(b) == Resources(2, 15, {"T4": 1})


@pytest.mark.parametrize("seed", range(1, 7))
def test_what_a_pass_leaves_is_what_a_full_read_would_leave(
    store: SqlStore, tmp_path: Path, seed: int
) -> None:
    """Random arrivals and endings; after every pass a fresh scheduler, which reads the whole
    queue, finds nothing to change: no job to start, fail or give another reason."""
    rng = random.Random(seed)
    capacity = Capacity(cpus=8, memory_gb=32, strict=True, max_jobs_per_project=3)
    backend = FakeBackend()
    s = scheduler(store, backend, tmp_path, capacity)
    machines = ["n1-standard-2", "n1-standard-4", "n1-standard-8", "e2-standard-2"]
    next_id = 1
    short_passes = 0
    for _ in range(40):
        for _ in range(rng.randrange(4)):
            scheduling = {"maxWaitDuration": "3600s"} if rng.random() < 0.2 else {}
            add(
                store, next_id, rng.choice(machines), rng.choice([0, 0, 1, 2]), rng.choice("ab"), **scheduling
            )
            next_id += 1
        running = store.jobs_in_states(frozenset({JobState.RUNNING}))
        if running and rng.random() < 0.4:
            backend.exited.add(rng.choice(running).id)
        s.run_once()
        s.run_once()  # launches what the first admitted, and reads as little as it can
        queued = len(store.jobs_in_states(frozenset({JobState.QUEUED})))
        short_passes += s.queue.last_read < queued
        before = snapshot(store)
        fresh = scheduler(store, backend, tmp_path, capacity)
        result = fresh.run_once()
        assert result.admitted == 0
        assert snapshot(store) == before
    assert short_passes > 5  # most passes did not read the whole queue
