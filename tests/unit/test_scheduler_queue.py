"""The scheduler stepped by hand over a real store and a fake backend: admission in run_once."""

from __future__ import annotations

import json
from pathlib import Path

from customjobs.clock import now_us
from customjobs.config import Settings
from customjobs.domain.job import NewJob
from customjobs.domain.states import JobState
from customjobs.execution.backends.base import Handle, LaunchRequest, ReplicaFact, ReplicaStatus
from customjobs.execution.capacity import Capacity
from customjobs.execution.logs.files import LogLayout
from customjobs.execution.scheduler.loop import PassResult, Scheduler
from customjobs.store.base import StateChange
from customjobs.store.sql.store import SqlStore

CAPACITY = Capacity(cpus=4, memory_gb=16, gpu_devices={"NVIDIA_TESLA_T4": (0, 1)}, strict=True)


class FakeBackend:
    """Replicas that run until the test says they exited."""

    name = "fake"

    def __init__(self) -> None:
        self.requests: list[LaunchRequest] = []
        self.exited: set[int] = set()

    def start(self, request: LaunchRequest) -> Handle:
        self.requests.append(request)
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
        """This fake holds nothing per job."""

    def close(self) -> None:
        """Nothing to close."""


def scheduler(store: SqlStore, backend: FakeBackend, tmp_path: Path) -> Scheduler:
    settings = Settings(data_dir=tmp_path)
    return Scheduler(store, backend, LogLayout(settings.jobs_dir), settings, capacity=CAPACITY)


def pool(machine: str, replicas: int = 1, gpus: int = 0) -> dict[str, object]:
    spec: dict[str, object] = {"machineType": machine}
    if gpus:
        spec.update(acceleratorType="NVIDIA_TESLA_T4", acceleratorCount=gpus)
    return {
        "machineSpec": spec,
        "replicaCount": str(replicas),
        "containerSpec": {"imageUri": "x", "command": ["true"]},
    }


def add(store: SqlStore, job_id: int, *pools: dict[str, object], priority: int = 0, **scheduling: str) -> int:
    spec: dict[str, object] = {"workerPoolSpecs": list(pools)}
    if scheduling:
        spec["scheduling"] = scheduling
    labels = {"customjobs-priority": str(priority)} if priority else {}
    new = NewJob("p", "l", f"job-{job_id}", labels, json.dumps({"jobSpec": spec}))
    store.insert_job(job_id, new, JobState.PENDING, now_us() - 1_000 + job_id)
    return job_id


def state(store: SqlStore, job_id: int) -> JobState:
    job = store.get_job(job_id)
    assert job is not None
    return job.state


def test_run_once_admits_what_fits_and_says_what_it_did(store: SqlStore, tmp_path: Path) -> None:
    backend = FakeBackend()
    s = scheduler(store, backend, tmp_path)
    for job_id in (1, 2, 3):
        add(store, job_id, pool("n1-standard-2"))  # 2 vCPUs each: two fit

    assert s.run_once() == PassResult(active=3, admitted=2, launched=2, finished=0)
    assert [state(store, j) for j in (1, 2, 3)] == [JobState.RUNNING, JobState.RUNNING, JobState.QUEUED]
    queued = store.get_job(3)
    assert queued is not None and queued.queue_reason is not None
    assert queued.queue_reason.startswith("Waiting for free vCPUs")
    assert store.queue_positions([3]) == {3: 1}

    backend.exited.add(1)
    assert s.run_once() == PassResult(active=3, admitted=1, launched=1, finished=1)
    assert state(store, 3) is JobState.RUNNING
    history = [e.state for e in store.events(3)]
    assert history == [JobState.PENDING, JobState.QUEUED, JobState.PENDING, JobState.RUNNING]


def test_a_gang_starts_whole_or_not_at_all(store: SqlStore, tmp_path: Path) -> None:
    backend = FakeBackend()
    s = scheduler(store, backend, tmp_path)
    add(store, 1, pool("n1-standard-2"))
    add(store, 2, pool("n1-standard-1"), pool("n1-standard-1", replicas=2))  # 3 replicas, 3 vCPUs

    s.run_once()
    assert [r.job_id for r in backend.requests] == [1]
    assert state(store, 2) is JobState.QUEUED

    backend.exited.add(1)
    s.run_once()
    gang = backend.requests[-1]
    assert gang.job_id == 2 and gang.allocation is not None
    assert [r.name for r in gang.allocation.replicas] == ["workerpool0-0", "workerpool1-0", "workerpool1-1"]


def test_priority_then_fifo(store: SqlStore, tmp_path: Path) -> None:
    backend = FakeBackend()
    s = scheduler(store, backend, tmp_path)
    add(store, 1, pool("n1-standard-4"))
    s.run_once()
    add(store, 2, pool("n1-standard-4"))
    add(store, 3, pool("n1-standard-4"), priority=7)
    add(store, 4, pool("n1-standard-4"))
    s.run_once()
    assert store.queue_positions([2, 3, 4]) == {3: 1, 2: 2, 4: 3}

    started = []
    for running in (1, 3, 2):
        backend.exited.add(running)
        s.run_once()
        started.append(backend.requests[-1].job_id)
    assert started == [3, 2, 4]


def test_gpu_allocations_are_disjoint_and_survive_a_restart(store: SqlStore, tmp_path: Path) -> None:
    backend = FakeBackend()
    add(store, 1, pool("n1-standard-1", gpus=1))
    add(store, 2, pool("n1-standard-1", gpus=1))
    scheduler(store, backend, tmp_path).run_once()
    devices = [r.allocation.replicas[0].gpu_indices for r in backend.requests if r.allocation]
    assert sorted(devices) == [(0,), (1,)]

    # A new scheduler (a restarted server, or a peer that took the lease) reads what is held.
    add(store, 3, pool("n1-standard-1", gpus=1))
    successor = scheduler(store, backend, tmp_path)
    successor.run_once()
    assert state(store, 3) is JobState.QUEUED
    backend.exited.add(1)
    successor.run_once()
    assert backend.requests[-1].job_id == 3
    assert backend.requests[-1].allocation is not None
    assert backend.requests[-1].allocation.replicas[0].gpu_indices == devices[0]


def test_max_wait_duration_fails_a_queued_job(store: SqlStore, tmp_path: Path) -> None:
    backend = FakeBackend()
    s = scheduler(store, backend, tmp_path)
    add(store, 1, pool("n1-standard-4"))
    add(store, 2, pool("n1-standard-4"), maxWaitDuration="0.001s")

    result = s.run_once()

    assert result.finished == 1
    job = store.get_job(2)
    assert job is not None and job.state is JobState.FAILED and job.error_code == 8
    assert job.error_message is not None and "maxWaitDuration" in job.error_message


class PlacingBackend(FakeBackend):
    """A cluster that cannot place job `held` (another user holds what it needs) until let go."""

    REASON = "Waiting for the cluster to place the job's replicas: its nodes are busy."

    def __init__(self, held: int) -> None:
        super().__init__()
        self.held: int | None = held
        self.unplaced: list[tuple[int, int]] = []

    def place(self, request: LaunchRequest) -> str | None:
        return self.REASON if request.job_id == self.held else None

    def unplace(self, job_id: int, attempt: int) -> None:
        self.unplaced.append((job_id, attempt))


def test_a_job_the_backend_cannot_place_waits_queued_holding_its_share_while_others_run(
    store: SqlStore, tmp_path: Path
) -> None:
    backend = PlacingBackend(held=1)
    s = scheduler(store, backend, tmp_path)
    add(store, 1, pool("n1-standard-2"))  # admitted, not placed
    add(store, 2, pool("n1-standard-1"))
    add(store, 3, pool("n1-standard-1"))
    add(store, 4, pool("n1-standard-1"))  # 2 + 1 + 1 vCPUs held: no room for it

    s.run_once()
    placing = store.get_job(1)
    assert placing is not None and placing.state is JobState.QUEUED
    assert placing.queue_reason == PlacingBackend.REASON and placing.allocation is not None
    assert placing.attempt == 0  # no attempt is claimed until it is placed
    assert [state(store, j) for j in (2, 3, 4)] == [JobState.RUNNING, JobState.RUNNING, JobState.QUEUED]
    assert sorted(r.job_id for r in backend.requests) == [2, 3]  # launched side by side: any order

    # Other jobs end and start around it; it keeps its share and its reason, asked every pass.
    backend.exited.add(2)
    s.run_once()
    assert state(store, 2) is JobState.SUCCEEDED and state(store, 4) is JobState.RUNNING
    assert state(store, 1) is JobState.QUEUED

    backend.held = None  # placed now: it launches in the next pass
    s.run_once()
    placed = store.get_job(1)
    assert placed is not None and placed.state is JobState.RUNNING and placed.attempt == 1
    assert placed.queue_reason is None
    history = [e.state for e in store.events(1)]
    assert history == [JobState.PENDING, JobState.QUEUED, JobState.PENDING, JobState.RUNNING]


def test_a_job_cancelled_while_it_waits_for_its_placement_gives_its_reservation_back(
    store: SqlStore, tmp_path: Path
) -> None:
    backend = PlacingBackend(held=1)
    s = scheduler(store, backend, tmp_path)
    add(store, 1, pool("n1-standard-2"))
    s.run_once()
    job = store.get_job(1)
    assert job is not None and job.state is JobState.QUEUED and job.allocation is not None
    assert store.change_state(StateChange(1, JobState.QUEUED, JobState.CANCELLING, now_us()))
    s.run_once()
    assert state(store, 1) is JobState.CANCELLED
    assert backend.unplaced == [(1, 1)]
    assert store.placing_jobs() == []
