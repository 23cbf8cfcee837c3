"""Create-time validation and the JSON wire format, through the real client and plain HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
import requests
from google.api_core import exceptions
from google.cloud import aiplatform_v1 as av1

from e2e.vertex import PARENT, rest_client
from support.server import ServerProcess
from validation_cases import CASES, VALID_BODY, VALID_VARIANTS

BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"


def jobs_url(server: ServerProcess, version: str = "v1") -> str:
    return f"{server.url}/{version}/{PARENT}/customJobs"


@pytest.mark.parametrize(("body", "expected_paths"), CASES)
def test_invalid_job_is_rejected_with_every_field_named(
    server: ServerProcess, body: dict[str, Any], expected_paths: set[str]
) -> None:
    client = rest_client(server.url)
    # Over REST the client picks its class from the HTTP status: 400 is BadRequest.
    with pytest.raises(exceptions.BadRequest) as info:
        client.create_custom_job(parent=PARENT, custom_job=av1.CustomJob.from_json(json.dumps(body)))
    assert info.value.code == 400
    assert ": List of found errors:\t1.Field: " in info.value.message
    for path in expected_paths:
        assert f"Field: {path}; Message: " in info.value.message

    response = requests.post(jobs_url(server), json=body)
    error = response.json()["error"]
    assert (response.status_code, error["code"], error["status"]) == (400, 400, "INVALID_ARGUMENT")
    (detail,) = error["details"]
    assert detail["@type"] == BAD_REQUEST_TYPE
    assert {v["field"] for v in detail["fieldViolations"]} == expected_paths
    assert all(v["description"] for v in detail["fieldViolations"])


@pytest.mark.parametrize("body", VALID_VARIANTS)
def test_valid_variants_are_accepted(server: ServerProcess, body: dict[str, Any]) -> None:
    key = body.get("encryptionSpec", {}).get("kmsKeyName")
    if key:
        # A customer key must exist in the server's key ring before a job may name it.
        subprocess.run(
            [
                sys.executable,
                "-m",
                "customjobs.cli.main",
                "keys",
                "--data-dir",
                str(server.data_dir),
                "create",
                key,
            ],
            check=False,
            capture_output=True,
            timeout=60,
        )
    response = requests.post(jobs_url(server), json=body)
    assert response.status_code == 200, response.text
    created = response.json()
    assert created["state"] == "JOB_STATE_PENDING"
    requests.post(f"{server.url}/v1/{created['name']}:cancel", json={})


def test_both_oneof_members_name_the_element(server: ServerProcess) -> None:
    # Google's front end: the element's own path, the oneof and the member it refused.
    before = len(requests.get(jobs_url(server), params={"pageSize": 1000}).json().get("customJobs", []))
    pool = VALID_BODY["jobSpec"]["workerPoolSpecs"][0]
    package = {"executorImageUri": "img", "packageUris": ["gs://b/p.tar.gz"], "pythonModule": "trainer.task"}
    for index, pools in (
        (0, [{**pool, "pythonPackageSpec": package}]),
        (1, [pool, {**pool, "pythonPackageSpec": package}]),
    ):
        body = {**VALID_BODY, "jobSpec": {**VALID_BODY["jobSpec"], "workerPoolSpecs": pools}}
        response = requests.post(jobs_url(server), json=body)
        error = response.json()["error"]
        assert response.status_code == 400 and error["status"] == "INVALID_ARGUMENT"
        at = f"custom_job.job_spec.worker_pool_specs[{index}]"
        assert error["message"] == (
            f"Invalid JSON payload received. Invalid value at '{at}' (oneof), "
            "oneof field 'task' is already set. Cannot set 'pythonPackageSpec'"
        )
        assert error["details"][0]["fieldViolations"][0]["field"] == at
    after = len(requests.get(jobs_url(server), params={"pageSize": 1000}).json().get("customJobs", []))
    assert after == before, "a refused create stored a job"


def test_unknown_field_is_googles_400(server: ServerProcess) -> None:
    body = {**VALID_BODY, "jobSpec": {**VALID_BODY["jobSpec"], "foo": 1}}
    response = requests.post(jobs_url(server), json=body)
    error = response.json()["error"]
    assert response.status_code == 400 and error["status"] == "INVALID_ARGUMENT"
    assert error["message"] == (
        "Invalid JSON payload received. Unknown name \"foo\" at 'custom_job.job_spec': Cannot find field."
    )
    top = requests.post(jobs_url(server), json={**VALID_BODY, "bar": True}).json()["error"]
    assert top["message"].endswith("Unknown name \"bar\" at 'custom_job': Cannot find field.")


def test_malformed_values_are_400(server: ServerProcess) -> None:
    not_json = requests.post(jobs_url(server), data=b"{nope", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["error"]["status"] == "INVALID_ARGUMENT"
    bad_count = json.loads(json.dumps(VALID_BODY))
    bad_count["jobSpec"]["workerPoolSpecs"][0]["replicaCount"] = "many"
    response = requests.post(jobs_url(server), json=bad_count)
    assert response.status_code == 400
    assert "custom_job.job_spec.worker_pool_specs.replica_count" in response.json()["error"]["message"]
    two_tasks = json.loads(json.dumps(VALID_BODY))
    two_tasks["jobSpec"]["workerPoolSpecs"][0]["pythonPackageSpec"] = {"pythonModule": "m"}
    assert requests.post(jobs_url(server), json=two_tasks).status_code == 400


def test_snake_case_enum_numbers_and_int64_numbers_are_accepted(server: ServerProcess) -> None:
    body = {
        "display_name": "snake",
        "labels": {"env": "dev"},
        "job_spec": {
            "worker_pool_specs": [
                {
                    "machine_spec": {
                        "machine_type": "n1-standard-4",
                        "accelerator_type": 5,
                        "accelerator_count": 1,
                    },
                    "replica_count": 1,
                    "container_spec": {"image_uri": "x", "command": ["true"]},
                }
            ],
            "scheduling": {"timeout": "3600s", "strategy": "SPOT"},
        },
        # Output-only fields a client echoes back are ignored, not rejected.
        "state": "JOB_STATE_SUCCEEDED",
        "name": "projects/x/locations/y/customJobs/1",
        "createTime": "2020-01-01T00:00:00Z",
    }
    response = requests.post(jobs_url(server), params={"$alt": "json;enum-encoding=int"}, json=body)
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["state"] == "JOB_STATE_PENDING"
    assert job["name"].startswith(PARENT + "/customJobs/")
    assert job["createTime"] != "2020-01-01T00:00:00Z" and job["createTime"].endswith("Z")
    pool = job["jobSpec"]["workerPoolSpecs"][0]
    assert pool["replicaCount"] == "1"
    assert pool["machineSpec"]["acceleratorType"] == "NVIDIA_TESLA_T4"
    assert pool["diskSpec"] == {"bootDiskType": "pd-ssd", "bootDiskSizeGb": 100}
    assert job["jobSpec"]["scheduling"] == {"timeout": "3600s", "strategy": "SPOT"}
    requests.post(f"{server.url}/v1/{job['name']}:cancel", json={})


def test_v1beta1_serves_the_same_jobs(server: ServerProcess) -> None:
    created = requests.post(jobs_url(server, "v1beta1"), json=VALID_BODY).json()
    fetched = requests.get(f"{server.url}/v1/{created['name']}").json()
    assert fetched["displayName"] == VALID_BODY["displayName"]
    again = requests.get(f"{server.url}/v1beta1/{created['name']}")
    assert again.status_code == 200 and again.json()["name"] == created["name"]


def test_malformed_names_and_paths(server: ServerProcess) -> None:
    assert requests.get(f"{server.url}/v1/{PARENT}/customJobs/abc").status_code == 400
    missing = requests.get(f"{server.url}/v1/{PARENT}/somethingElse")
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"
    unknown_param = requests.get(jobs_url(server), params={"orderBy": "createTime"})
    assert unknown_param.status_code == 400
    assert "Cannot bind query parameter" in unknown_param.json()["error"]["message"]
