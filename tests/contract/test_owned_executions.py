"""Store.delete_owned: a deleted resource's ended executions go, nobody else's, on every database."""

from __future__ import annotations

from customjobs.domain.job import NewJob
from customjobs.domain.states import TERMINAL, JobState
from customjobs.store.base import Store

T0 = 1_700_000_000_000_000


def _add(store: Store, job_id: int, state: JobState, owner: str | None) -> None:
    new = NewJob("p", "l", f"job-{job_id}", {"k": "v"}, '{"jobSpec": {}}', owner=owner)
    store.insert_job(job_id, new, state, T0 + job_id)


def test_only_the_owners_ended_executions_are_deleted(store: Store) -> None:
    _add(store, 1, JobState.SUCCEEDED, "hyperparameterTuningJobs/7")
    _add(store, 2, JobState.CANCELLED, "hyperparameterTuningJobs/7")
    _add(store, 3, JobState.RUNNING, "hyperparameterTuningJobs/7")  # still running: kept
    _add(store, 4, JobState.SUCCEEDED, "hyperparameterTuningJobs/8")
    _add(store, 5, JobState.SUCCEEDED, None)
    assert sorted(store.delete_owned("hyperparameterTuningJobs/7", TERMINAL)) == [1, 2]
    assert [store.get_job(i) is None for i in range(1, 6)] == [True, True, False, False, False]
    assert store.delete_owned("hyperparameterTuningJobs/7", TERMINAL) == []
