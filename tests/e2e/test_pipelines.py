"""TrainingPipelines and Models end to end: the SDK's three training classes, REST and gRPC
against a real server, backing CustomJobs that really run, and Models whose artifacts load."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import torch
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from e2e import pipeline_scenarios
from support.server import ServerProcess

TESTS_DIR = Path(__file__).resolve().parents[1]
PROJECT = pipeline_scenarios.PROJECT
LOCATION = pipeline_scenarios.LOCATION
CUSTOM_TASK = "gs://google-cloud-aiplatform/schema/trainingjob/definition/custom_task_1.0.0.yaml"
SDK_TIMEOUT_S = 300
WAIT_S = 90


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("pipelines"), "--cpus", "8", "--memory-gb", "32")
    srv.start()
    yield srv
    srv.stop()


def _base(server: ServerProcess, version: str = "v1") -> str:
    return f"{server.url}/{version}/projects/{PROJECT}/locations/{LOCATION}"


def _get(server: ServerProcess, name: str, version: str = "v1") -> dict[str, Any]:
    response = requests.get(f"{server.url}/{version}/{name}", timeout=10)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _wait(server: ServerProcess, name: str, *states: str, timeout_s: float = WAIT_S) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = _get(server, name)
        if found["state"] in states:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{name} never reached {states}: {_get(server, name)}")


def _pipeline(command: list[str], out: str | None, model: bool = True, **fields: Any) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "workerPoolSpecs": [
            {
                "machineSpec": {"machineType": "n1-standard-4"},
                "replicaCount": 1,
                "containerSpec": {"imageUri": "local/python", "command": command},
            }
        ]
    }
    if out is not None:
        inputs["baseOutputDirectory"] = {"outputUriPrefix": out}
    body: dict[str, Any] = {
        "displayName": f"tp-{uuid.uuid4().hex[:6]}",
        "trainingTaskDefinition": CUSTOM_TASK,
        "trainingTaskInputs": inputs,
    }
    if model:
        body["modelToUpload"] = {
            "displayName": "m",
            "containerSpec": {"imageUri": pipeline_scenarios.SERVING},
        }
    body.update(fields)
    return body


def _create(server: ServerProcess, body: dict[str, Any], version: str = "v1") -> dict[str, Any]:
    response = requests.post(f"{_base(server, version)}/trainingPipelines", json=body, timeout=10)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _write_model(text: str) -> list[str]:
    code = (
        "import os; d = os.environ['AIP_MODEL_DIR']; os.makedirs(d, exist_ok=True); "
        f"open(d + 'm.txt', 'w').write({text!r})"
    )
    return [sys.executable, "-c", code]


def _storage(server: ServerProcess) -> storage.Client:
    return storage.Client(
        project=PROJECT, credentials=AnonymousCredentials(), client_options={"api_endpoint": server.url}
    )


def _sdk(server: ServerProcess, tmp_path: Path, scenario: str, *extra: str) -> dict[str, str]:
    env = {**os.environ, "STORAGE_EMULATOR_HOST": server.url, "PYTHONPATH": str(TESTS_DIR)}
    argv = [sys.executable, "-m", "e2e.pipeline_scenarios", server.url, scenario, str(tmp_path), *extra]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=SDK_TIMEOUT_S, cwd=tmp_path)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return {
        line.split()[0].removeprefix("result-"): line.split(maxsplit=1)[1]
        for line in done.stdout.splitlines()
        if line.startswith("result-")
    }


@pytest.mark.parametrize("scenario", ["script", "container", "package"])
def test_sdk_training_classes_return_a_model_whose_artifacts_load(
    server: ServerProcess, tmp_path: Path, scenario: str
) -> None:
    result = _sdk(server, tmp_path, scenario)
    pipeline = _get(server, result["pipeline"])
    assert pipeline["state"] == "PIPELINE_STATE_SUCCEEDED"
    model_name, version = result["model"].split("@")
    assert (
        pipeline["modelToUpload"]["name"] == model_name and pipeline["modelToUpload"]["versionId"] == version
    )
    # The backing CustomJob is a real one: listed among the project's CustomJobs, succeeded.
    backing = pipeline["trainingTaskMetadata"]["backingCustomJob"]
    listed = requests.get(f"{_base(server)}/customJobs", timeout=10).json()["customJobs"]
    assert backing in [job["name"] for job in listed]
    assert _get(server, backing)["state"] == "JOB_STATE_SUCCEEDED"
    model = _get(server, model_name)
    assert model["artifactUri"] == result["uri"] and model["trainingPipeline"] == result["pipeline"]
    assert model["containerSpec"]["imageUri"] == pipeline_scenarios.SERVING
    assert model["displayName"] == f"linear-{scenario}" and model["versionAliases"] == ["default"]
    # What the job saved, downloaded from Model.uri through Cloud Storage and loaded back.
    bucket, _, prefix = result["uri"].removeprefix("gs://").partition("/")
    data = _storage(server).bucket(bucket).blob(prefix + "/model.pt").download_as_bytes()
    weights = torch.load(io.BytesIO(data))
    layer = torch.nn.Linear(1, 1)
    layer.load_state_dict(weights)
    assert abs(layer.weight.item() - 3) < 0.05 and abs(layer.bias.item() - 1) < 0.05


def test_a_run_with_parent_model_adds_a_version(server: ServerProcess, tmp_path: Path) -> None:
    first = _create(server, _pipeline(_write_model("v1"), f"gs://versions/{uuid.uuid4().hex}"))
    done = _wait(server, first["name"], "PIPELINE_STATE_SUCCEEDED")
    model_name = done["modelToUpload"]["name"]
    result = _sdk(server, tmp_path, "container", model_name)
    assert result["model"] == f"{model_name}@2"

    versions = _get(server, f"{model_name}:listVersions")["models"]
    assert sorted((v["versionId"], v.get("versionAliases", [])) for v in versions) == [
        ("1", []),
        ("2", ["default"]),
    ]
    assert _get(server, model_name)["versionId"] == "2"  # no "@": the default version
    assert _get(server, f"{model_name}@1")["artifactUri"].endswith("/model")
    assert _get(server, f"{model_name}@default")["versionId"] == "2"
    listed = requests.get(f"{_base(server)}/models", params={"filter": 'display_name="m"'}, timeout=10).json()
    assert model_name not in [m["name"] for m in listed.get("models", [])]  # v2 is named linear-container
    everything = requests.get(f"{_base(server)}/models", timeout=10).json()["models"]
    assert [m["versionId"] for m in everything if m["name"] == model_name] == ["2"]

    refused = requests.delete(f"{server.url}/v1/{model_name}@2:deleteVersion", timeout=10)
    assert refused.status_code == 400 and refused.json()["error"]["status"] == "FAILED_PRECONDITION"
    deleted = requests.delete(f"{server.url}/v1/{model_name}@1:deleteVersion", timeout=10)
    assert deleted.status_code == 200 and deleted.json()["done"] is True
    assert [v["versionId"] for v in _get(server, f"{model_name}:listVersions")["models"]] == ["2"]
    gone = requests.delete(f"{server.url}/v1/{model_name}", timeout=10)
    assert gone.status_code == 200 and gone.json()["done"] is True
    missing = requests.get(f"{server.url}/v1/{model_name}", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"


def test_cancel_stops_the_backing_job(server: ServerProcess) -> None:
    body = _pipeline([sys.executable, "-c", "import time; time.sleep(60)"], None, model=False)
    name = _create(server, body)["name"]
    running = _wait(server, name, "PIPELINE_STATE_RUNNING")
    backing = running["trainingTaskMetadata"]["backingCustomJob"]
    assert _get(server, backing)["state"] == "JOB_STATE_RUNNING"
    assert requests.post(f"{server.url}/v1/{name}:cancel", timeout=10).status_code == 200
    cancelled = _wait(server, name, "PIPELINE_STATE_CANCELLED")
    assert cancelled["error"]["code"] == 1
    assert _get(server, backing)["state"] == "JOB_STATE_CANCELLED"
    again = requests.post(f"{server.url}/v1/{name}:cancel", timeout=10)
    assert again.status_code == 400 and "PIPELINE_STATE_CANCELLED" in again.json()["error"]["message"]
    op = requests.delete(f"{server.url}/v1/{name}", timeout=10)
    assert op.status_code == 200 and op.json()["done"] is True
    assert requests.get(f"{server.url}/v1/{name}", timeout=10).status_code == 404


def test_a_failed_job_fails_its_pipeline_and_uploads_nothing(server: ServerProcess) -> None:
    code = "import sys; print('bad data'); sys.exit(3)"
    name = _create(server, _pipeline([sys.executable, "-c", code], "gs://failing/out"))["name"]
    failed = _wait(server, name, "PIPELINE_STATE_FAILED")
    assert "exit" in failed["error"]["message"].lower() and "name" not in failed["modelToUpload"]
    backing = failed["trainingTaskMetadata"]["backingCustomJob"]
    assert _get(server, backing)["error"]["message"] == failed["error"]["message"]


def test_list_filters_and_pages_on_both_versions(server: ServerProcess) -> None:
    tag = uuid.uuid4().hex[:8]
    names = [
        _create(server, _pipeline(["true"], None, model=False, labels={"batch": tag}), version)["name"]
        for version in ("v1", "v1beta1", "v1")
    ]
    for name in names:
        _wait(server, name, "PIPELINE_STATE_SUCCEEDED")
    seen: list[str] = []
    token = ""
    while True:
        params = {"filter": f'labels.batch="{tag}" AND state="PIPELINE_STATE_SUCCEEDED"', "pageSize": "2"}
        if token:
            params["pageToken"] = token
        page = requests.get(f"{_base(server, 'v1beta1')}/trainingPipelines", params=params, timeout=10).json()
        seen += [p["name"] for p in page["trainingPipelines"]]
        token = page.get("nextPageToken", "")
        if not token:
            break
    assert seen == names[::-1]
    bad = requests.get(
        f"{_base(server)}/trainingPipelines", params={"filter": 'state="JOB_STATE_RUNNING"'}, timeout=10
    )
    assert bad.status_code == 400 and "PIPELINE_STATE_RUNNING" in bad.json()["error"]["message"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {
                "trainingTaskDefinition": "gs://google-cloud-aiplatform/schema/trainingjob/definition/automl_tabular_1.0.0.yaml"
            },
            "training_task_definition",
        ),
        ({"inputDataConfig": {"datasetId": "123"}}, "input_data_config.dataset_id"),
        ({"trainingTaskInputs": {"workerPoolSpecs": []}}, "training_task_inputs.worker_pool_specs"),
        ({"trainingTaskInputs": {"workerPoolSpec": []}}, "training_pipeline.training_task_inputs"),
        ({"trainingTaskInputs": "not a spec"}, "training_task_inputs"),
        ({"modelToUpload": {"displayName": "m"}}, "model_to_upload.container_spec.image_uri"),
        ({"modelId": "9starts-with-digit"}, "model_id"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    server: ServerProcess, change: dict[str, Any], field: str
) -> None:
    body = _pipeline(_write_model("x"), "gs://bad/out")
    body.update(change)
    response = requests.post(f"{_base(server)}/trainingPipelines", json=body, timeout=10)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and field in error["message"], error


def test_a_model_to_upload_needs_somewhere_to_find_its_artifacts(server: ServerProcess) -> None:
    response = requests.post(f"{_base(server)}/trainingPipelines", json=_pipeline(["true"], None), timeout=10)
    assert response.status_code == 400
    assert "training_task_inputs.base_output_directory" in response.json()["error"]["message"]


def test_upload_model_directly_with_an_id_and_aliases(server: ServerProcess) -> None:
    model_id = f"linear-{uuid.uuid4().hex[:6]}"
    body = {
        "modelId": model_id,
        "model": {
            "displayName": "uploaded",
            "artifactUri": "gs://uploads/linear",
            "containerSpec": {"imageUri": pipeline_scenarios.SERVING},
            "versionAliases": ["prod"],
            "labels": {"team": "ml"},
        },
    }
    op = requests.post(f"{_base(server)}/models:upload", json=body, timeout=10).json()
    assert op["done"] is True
    name = f"projects/{PROJECT}/locations/{LOCATION}/models/{model_id}"
    assert op["response"]["model"] == name and op["response"]["modelVersionId"] == "1"
    assert op["metadata"]["@type"].endswith("UploadModelOperationMetadata")
    assert _get(server, op["name"])["response"] == op["response"]  # the operation can be read back
    model = _get(server, f"{name}@prod")
    assert model["versionAliases"] == ["default", "prod"] and model["labels"] == {"team": "ml"}
    twice = requests.post(f"{_base(server)}/models:upload", json=body, timeout=10)
    assert twice.status_code == 409 and twice.json()["error"]["status"] == "ALREADY_EXISTS"
    by_label = requests.get(f"{_base(server)}/models", params={"filter": "labels.team=ml"}, timeout=10).json()
    assert [m["name"] for m in by_label["models"]] == [name]
    no_state = requests.get(
        f"{_base(server)}/models", params={"filter": 'state="JOB_STATE_RUNNING"'}, timeout=10
    )
    assert no_state.status_code == 400


def test_serving_is_not_offered_and_says_so(server: ServerProcess) -> None:
    response = requests.post(f"{_base(server)}/endpoints", json={"displayName": "e"}, timeout=10)
    assert response.status_code == 501, response.text
    error = response.json()["error"]
    assert error["status"] == "UNIMPLEMENTED" and "EndpointService" in error["message"]
    deploy = requests.post(f"{_base(server)}/endpoints/1:deployModel", json={}, timeout=10)
    assert deploy.status_code == 501 and "DeployModel" in deploy.json()["error"]["message"]


def test_kill9_while_the_job_runs_uploads_the_model_once(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "server")
    srv.start()
    try:
        code = (
            "import os, time; time.sleep(3); d = os.environ['AIP_MODEL_DIR']; os.makedirs(d, exist_ok=True)"
        )
        name = _create(srv, _pipeline([sys.executable, "-c", code], str(tmp_path / "out")))["name"]
        _wait(srv, name, "PIPELINE_STATE_RUNNING")
        srv.kill9()
        srv.start()
        done = _wait(srv, name, "PIPELINE_STATE_SUCCEEDED")
        models = requests.get(f"{_base(srv)}/models", timeout=10).json()["models"]
        assert [m["trainingPipeline"] for m in models] == [name]
        assert [m["name"] for m in models] == [done["modelToUpload"]["name"]]
        jobs = requests.get(f"{_base(srv)}/customJobs", timeout=10).json()["customJobs"]
        assert [j["name"] for j in jobs] == [done["trainingTaskMetadata"]["backingCustomJob"]]
    finally:
        srv.stop()
