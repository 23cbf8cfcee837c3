"""The launch guard on both databases: the attempt number moves by compare-and-set only.

Two schedulers (one that lost its lease and does not know it yet, and its successor)
may both try to launch a job: exactly one claims the attempt, and a handle is stored only
for the attempt that is still the job's.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from customjobs.domain.job import NewJob
from customjobs.domain.states import TERMINAL, JobState
from customjobs.store.base import AttemptClaim, StateChange, Store

HANDLE = {"backend": "local", "replicas": [{"name": "workerpool0-0", "pid": 4242}]}
T0 = 1_700_000_000_000_000


def add_job(store: Store, job_id: int, state: JobState) -> None:
    store.insert_job(job_id, NewJob("p", "l", f"job-{job_id}", {}, "{}"), state, T0)


def change(store: Store, job_id: int, expected: JobState, target: JobState, now_us: int) -> bool:
    return store.change_state(StateChange(job_id, expected, target, now_us, set_end=target in TERMINAL))


def test_claim_moves_the_attempt_by_one_from_the_value_read(store: Store) -> None:
    add_job(store, 1, JobState.PENDING)

    assert store.claim_attempt(1, JobState.PENDING, 0)
    assert not store.claim_attempt(1, JobState.PENDING, 0)  # the value read is stale now
    assert store.claim_attempt(1, JobState.PENDING, 1)

    job = store.get_job(1)
    assert job is not None and job.attempt == 2


def test_claim_needs_the_expected_state_and_no_handle(store: Store) -> None:
    add_job(store, 1, JobState.QUEUED)
    assert not store.claim_attempt(1, JobState.PENDING, 0)

    add_job(store, 2, JobState.PENDING)
    assert store.claim_attempt(2, JobState.PENDING, 0)
    assert store.attach_handle(2, 1, HANDLE)
    assert not store.claim_attempt(2, JobState.PENDING, 1)  # replicas are attached already

    assert not store.claim_attempt(404, JobState.PENDING, 0)


def test_only_one_of_racing_schedulers_claims_an_attempt(store: Store) -> None:
    for job_id in range(1, 6):
        add_job(store, job_id, JobState.PENDING)
        barrier = threading.Barrier(8)

        def claim(_: int, job_id: int = job_id, barrier: threading.Barrier = barrier) -> bool:
            barrier.wait()
            return store.claim_attempt(job_id, JobState.PENDING, 0)

        with ThreadPoolExecutor(8) as pool:
            wins = list(pool.map(claim, range(8)))

        assert wins.count(True) == 1
        job = store.get_job(job_id)
        assert job is not None and job.attempt == 1


def test_a_handle_is_attached_only_to_the_current_attempt_of_a_live_job(store: Store) -> None:
    add_job(store, 1, JobState.PENDING)
    assert store.claim_attempt(1, JobState.PENDING, 0)
    assert store.claim_attempt(1, JobState.PENDING, 1)  # a successor superseded attempt 1

    assert not store.attach_handle(1, 1, HANDLE)
    assert store.attach_handle(1, 2, HANDLE)
    job = store.get_job(1)
    assert job is not None and job.handle == HANDLE and job.attempt == 2

    add_job(store, 2, JobState.PENDING)
    assert store.claim_attempt(2, JobState.PENDING, 0)
    assert change(store, 2, JobState.PENDING, JobState.FAILED, T0 + 1)
    assert not store.attach_handle(2, 1, HANDLE)


def test_count_by_state(store: Store) -> None:
    assert store.count_by_state() == {}
    for job_id, state in enumerate([JobState.PENDING, JobState.PENDING, JobState.RUNNING], start=1):
        add_job(store, job_id, state)
    assert change(store, 3, JobState.RUNNING, JobState.SUCCEEDED, T0 + 1)

    assert store.count_by_state() == {JobState.PENDING: 2, JobState.SUCCEEDED: 1}


def test_a_batch_of_claims_is_each_its_own_compare_and_set(store: Store) -> None:
    for job_id in (1, 2, 3):
        add_job(store, job_id, JobState.PENDING)
    assert store.claim_attempt(2, JobState.PENDING, 0)  # another scheduler won job 2 first
    add_job(store, 4, JobState.QUEUED)
    claims = [AttemptClaim(1, JobState.PENDING, 0), AttemptClaim(2, JobState.PENDING, 0)]
    claims += [AttemptClaim(3, JobState.PENDING, 0), AttemptClaim(4, JobState.PENDING, 0)]
    claims.append(AttemptClaim(404, JobState.PENDING, 0))
    assert store.claim_attempts(claims) == [True, False, True, False, False]
    attempts = {job_id: store.get_job(job_id).attempt for job_id in (1, 2, 3, 4)}  # type: ignore[union-attr]
    assert attempts == {1: 1, 2: 1, 3: 1, 4: 0}
    assert store.claim_attempts([]) == []


def test_a_batch_of_moves_applies_each_that_still_holds(store: Store) -> None:
    for job_id in (1, 2, 3):
        add_job(store, job_id, JobState.PENDING)
    assert change(store, 2, JobState.PENDING, JobState.CANCELLING, T0 + 1)  # a cancel got there first
    moves = [
        StateChange(job_id, JobState.PENDING, JobState.RUNNING, T0 + 2, set_start=True)
        for job_id in (1, 2, 3)
    ]
    assert store.change_states(moves) == [True, False, True]
    states = {job_id: store.get_job(job_id).state for job_id in (1, 2, 3)}  # type: ignore[union-attr]
    assert states == {1: JobState.RUNNING, 2: JobState.CANCELLING, 3: JobState.RUNNING}
    assert [e.state for e in store.events(1)] == [JobState.PENDING, JobState.RUNNING]
    assert [e.state for e in store.events(2)] == [JobState.PENDING, JobState.CANCELLING]
