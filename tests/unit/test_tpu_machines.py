"""TPU machine specs as Vertex takes them (issue 18, item 2): accepted, echoed, and counted
against capacity the way a GPU the server lacks is."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.cloud import aiplatform_v1
from google.protobuf import json_format

from customjobs.domain.job import NewJob
from customjobs.errors import InvalidArgument
from customjobs.execution.capacity import Capacity, job_shape
from customjobs.execution.scheduler.queueing import create_check
from customjobs.resources.custom_jobs.validation import validate_custom_job
from customjobs.wire.launch import launch_spec

LEGACY = {"machineType": "cloud-tpu", "acceleratorType": "TPU_V3", "acceleratorCount": 8}
V5E = {"machineType": "ct5lp-hightpu-4t", "tpuTopology": "2x2"}


def body(machine: dict[str, Any]) -> dict[str, Any]:
    pool = {
        "machineSpec": machine,
        "replicaCount": "1",
        "containerSpec": {"imageUri": "local", "command": ["true"]},
    }
    return {"displayName": "tpu", "jobSpec": {"workerPoolSpecs": [pool]}}


def message(machine: dict[str, Any]) -> Any:
    job = aiplatform_v1.CustomJob.pb()()
    json_format.ParseDict(body(machine), job)
    return job


@pytest.mark.parametrize("machine", [LEGACY, V5E], ids=["cloud-tpu", "ct5lp"])
def test_tpu_specs_are_valid_and_topology_is_kept(machine: dict[str, Any]) -> None:
    job = message(machine)
    assert validate_custom_job(job) == []
    stored = json.loads(json_format.MessageToJson(job))
    assert stored["jobSpec"]["workerPoolSpecs"][0]["machineSpec"] == machine


def test_a_wrong_tpu_count_is_refused_naming_the_field() -> None:
    violations = validate_custom_job(message({**LEGACY, "acceleratorCount": 3}))
    assert [v.field for v in violations] == ["job_spec.worker_pool_specs[0].machine_spec.accelerator_count"]


def _new(machine: dict[str, Any]) -> NewJob:
    return NewJob("p", "l", "tpu", {}, json_format.MessageToJson(message(machine)))


@pytest.mark.parametrize(("machine", "tpu"), [(LEGACY, "TPU_V3"), (V5E, "TPU_V5_LITEPOD")])
def test_strict_capacity_names_the_missing_tpu(machine: dict[str, Any], tpu: str) -> None:
    strict = Capacity(1000, 4000, strict=True)
    with pytest.raises(InvalidArgument) as refused:
        create_check(strict)(_new(machine))
    assert tpu in str(refused.value) and "could never start here" in str(refused.value)


def test_lenient_capacity_runs_without_the_tpu_and_says_so() -> None:
    shape = job_shape(launch_spec(_new(V5E).spec_json), Capacity(2, 8))
    (replica,) = shape.replicas
    assert replica.gpu_count == 0
    assert replica.note is not None and "TPU_V5_LITEPOD" in replica.note
    assert shape.asked.gpus == {"TPU_V5_LITEPOD": 4}
