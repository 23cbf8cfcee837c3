"""The store's part in the queue, on SQLite and PostgreSQL: priority order, reasons, allocations."""

from __future__ import annotations

from customjobs.domain.job import NewJob
from customjobs.domain.placement import JobAllocation, ReplicaAllocation
from customjobs.domain.states import JobState
from customjobs.store.sql.store import SqlStore

T0 = 1_700_000_000_000_000


def add(store: SqlStore, job_id: int, priority: int | None, state: JobState = JobState.QUEUED) -> None:
    labels = {} if priority is None else {"customjobs-priority": str(priority)}
    store.insert_job(job_id, NewJob("p", "l", f"j{job_id}", labels, "{}"), state, T0 + job_id)


def test_queue_positions_follow_priority_then_create_time(store: SqlStore) -> None:
    add(store, 1, None)
    add(store, 2, 5)
    add(store, 3, 0)
    add(store, 4, -2)
    add(store, 5, 5)
    add(store, 6, 9, JobState.PENDING)  # not queued: no position, and not counted

    assert store.queue_positions([1, 2, 3, 4, 5, 6]) == {2: 1, 5: 2, 1: 3, 3: 4, 4: 5}
    assert store.queue_positions([4]) == {4: 5}
    assert store.queue_positions([]) == {}


def test_a_few_positions_counted_and_a_page_numbered_agree(store: SqlStore) -> None:
    """queue_positions counts ahead of each job for a few ids and numbers the whole queue for
    a page: both answer the queue's order, ties on create time broken by id."""
    for job_id in range(1, 41):
        labels = {"customjobs-priority": str(job_id % 3)}
        # Pairs share a create time: their order is by id.
        store.insert_job(
            job_id, NewJob("p", "l", f"j{job_id}", labels, "{}"), JobState.QUEUED, T0 + job_id // 2
        )
    add(store, 41, 9, JobState.RUNNING)
    order = sorted(range(1, 41), key=lambda j: (-(j % 3), j // 2, j))
    expected = {job_id: n for n, job_id in enumerate(order, 1)}

    page = store.queue_positions(list(range(1, 42)))
    assert page == expected
    for few in ([1], [2, 3], [40, 39, 20, 7, 41]):
        assert store.queue_positions(few) == {j: expected[j] for j in few if j in expected}


def test_allocation_and_queue_reason_round_trip(store: SqlStore) -> None:
    add(store, 1, None, JobState.PENDING)
    allocation = JobAllocation(
        5,
        18.75,
        (
            ReplicaAllocation("workerpool0-0", 4, 15, "NVIDIA_TESLA_T4", (1,), ("[customjobs] note",)),
            ReplicaAllocation("workerpool1-0", 1, 3.75),
        ),
    )

    assert store.update_runtime(1, JobState.PENDING, queue_reason="Waiting for free vCPUs.")
    job = store.get_job(1)
    assert job is not None and job.queue_reason == "Waiting for free vCPUs." and job.allocation is None

    assert store.update_runtime(1, JobState.PENDING, allocation=allocation, queue_reason=None)
    job = store.get_job(1)
    assert job is not None and job.allocation == allocation and job.queue_reason is None
    assert job.allocation.gpu_indices() == {"NVIDIA_TESLA_T4": {1}}
