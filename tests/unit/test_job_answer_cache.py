"""The REST get's cache of rendered answers (codec.job_dict) must never serve a stale job.

Its key is `_Shown`, the fields job_message reads. A field of Job left out of the key
would let two different jobs share one rendered answer, so every field of Job is changed
in turn: either the key changes with it, or the rendered answer does not.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from customjobs.domain.job import Job, Outcome
from customjobs.domain.placement import JobAllocation
from customjobs.domain.states import JobState
from customjobs.resources.custom_jobs import codec

SPEC = {
    "displayName": "cached",
    "labels": {"team": "a"},
    "jobSpec": {"workerPoolSpecs": [{"replicaCount": "1", "containerSpec": {"imageUri": "busybox"}}]},
}


def _job() -> Job:
    return Job(
        id=7,
        project="p",
        location="us-central1",
        display_name="cached",
        state=JobState.RUNNING,
        spec_json=json.dumps(SPEC),
        create_us=1_000_000,
        update_us=2_000_000,
        labels={"team": "a"},
        start_us=1_500_000,
    )


# A different value for each field of Job, of the field's own type.
CHANGED: dict[str, Any] = {
    "id": 8,
    "project": "q",
    "location": "europe-west4",
    "display_name": "other",
    "state": JobState.SUCCEEDED,
    "spec_json": json.dumps({**SPEC, "displayName": "renamed"}),
    "create_us": 1_000_001,
    "update_us": 2_000_001,
    "labels": {"team": "b"},
    "start_us": 1_500_001,
    "end_us": 3_000_000,
    "error_code": 13,
    "error_message": "boom",
    "attempt": 2,
    "handle": {"pid": 1},
    "outcome": Outcome(JobState.FAILED, 13, "boom"),
    "stop_requested_us": 2_500_000,
    "web_access_uris": {"workerpool0-0": "http://x"},
    "allocation": JobAllocation.from_dict({"cpus": 1, "memoryGb": 2}),
    "queue_reason": "waiting",
    "owner": "hyperparameterTuningJobs/1",
}


def test_every_field_of_job_has_a_changed_value() -> None:
    assert set(CHANGED) == {f.name for f in dataclasses.fields(Job)}


@pytest.mark.parametrize("name", sorted(CHANGED))
def test_a_change_the_answer_shows_changes_the_cache_key(name: str) -> None:
    job = _job()
    other = dataclasses.replace(job, **{name: CHANGED[name]})
    rendered = codec.to_dict(codec.job_message(job, "v1"))
    rendered_other = codec.to_dict(codec.job_message(other, "v1"))
    assert codec.job_dict(job, "v1") == rendered  # the cache now holds the first job's answer
    if rendered_other != rendered:
        assert codec._shown(other) != codec._shown(job), f"{name} changes the answer but not its key"
    assert codec.job_dict(other, "v1") == rendered_other


def test_cached_answers_are_fresh_dicts_per_call() -> None:
    job = _job()
    first = codec.job_dict(job, "v1")
    first["customjobsQueue"] = {"position": 1}
    assert "customjobsQueue" not in codec.job_dict(job, "v1")
    assert codec.job_dict(job, "v1beta1") == codec.to_dict(codec.job_message(job, "v1beta1"))


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_the_answer_in_two_parts_is_the_whole_render_member_for_member_in_order(version: str) -> None:
    # The spec's members are rendered once per spec and the job's own per answer: together
    # they must be exactly MessageToDict of the whole message, in its order too.
    spec = {**SPEC, "encryptionSpec": {"kmsKeyName": "k"}, "jobSpec": {**SPEC["jobSpec"], "network": "n"}}
    job = dataclasses.replace(
        _job(),
        spec_json=json.dumps(spec),
        state=JobState.FAILED,
        end_us=3_000_000,
        error_code=9,
        error_message="no",
        web_access_uris={"workerpool0-0": "http://x"},
    )
    whole = codec.to_dict(codec.job_message(job, version))
    answer = codec.job_dict(job, version)
    assert answer == whole
    assert list(answer) == list(whole)


def test_list_pages_from_the_cache_equal_the_rendered_response() -> None:
    jobs = [_job(), dataclasses.replace(_job(), id=9, state=JobState.SUCCEEDED, end_us=3_000_000)]
    for token in ("", "next"):
        whole = codec.to_dict(codec.list_response(jobs, "v1", token, None))
        assert codec.list_dict(jobs, "v1", token) == whole
    assert codec.list_dict([], "v1", "") == codec.to_dict(codec.list_response([], "v1", "", None)) == {}
