"""Store.job_scopes, the console's picker: each project and location holding CustomJobs,
with its count, the one with the newest job first, on every database."""

from __future__ import annotations

from customjobs.domain.job import NewJob
from customjobs.domain.states import JobState
from customjobs.store.base import JobScope, Store

T0 = 1_700_000_000_000_000  # microseconds since the epoch


def add(
    store: Store, job_id: int, project: str, location: str, create_us: int, owner: str | None = None
) -> None:
    new = NewJob(project, location, f"job-{job_id}", {}, '{"jobSpec": {}}', owner=owner)
    store.insert_job(job_id, new, JobState.QUEUED, create_us)


def test_no_jobs_no_scopes(store: Store) -> None:
    assert store.job_scopes() == []


def test_scopes_are_counted_and_the_newest_job_comes_first(store: Store) -> None:
    add(store, 1, "old-proj", "us-central1", T0)
    add(store, 2, "old-proj", "us-central1", T0 + 10)
    add(store, 3, "other-proj", "europe-west4", T0 + 30)
    add(store, 4, "old-proj", "europe-west4", T0 + 20)
    add(store, 5, "old-proj", "us-central1", T0 + 5)  # not its scope's newest
    assert store.job_scopes() == [
        JobScope("other-proj", "europe-west4", 1, T0 + 30),
        JobScope("old-proj", "europe-west4", 1, T0 + 20),
        JobScope("old-proj", "us-central1", 3, T0 + 10),
    ]


def test_a_tuning_jobs_trials_are_not_counted(store: Store) -> None:
    # customJobs list leaves a tuning job's trials out, so the picker must not promise them.
    add(store, 1, "mine", "us-central1", T0)
    add(store, 2, "mine", "us-central1", T0 + 10, owner="hyperparameterTuningJobs/7")
    add(store, 3, "trials-only", "us-central1", T0 + 20, owner="hyperparameterTuningJobs/8")
    assert store.job_scopes() == [JobScope("mine", "us-central1", 1, T0)]
