"""TrainingPipelines and Models end to end: the SDK's three training classes, REST and gRPC
against a real server, backing CustomJobs that really run, and Models whose artifacts load."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import requests
import torch
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import aiplatform_v1 as av1
from google.cloud import storage

from e2e import pipeline_scenarios
from e2e.grpc_helpers import GrpcServerProcess
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


def _cli(server: ServerProcess, group: str, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "customjobs.cli.main", group, *args, "--endpoint", server.url]
    argv += ["--project", PROJECT, "--region", LOCATION]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_cli_pipelines_and_models(server: ServerProcess, tmp_path: Path) -> None:
    inputs = _pipeline(_write_model("cli"), str(tmp_path / "out"))["trainingTaskInputs"]
    config = tmp_path / "task.yaml"
    config.write_text(json.dumps(inputs))  # JSON is YAML
    created = _cli(
        server,
        "pipelines",
        "create",
        "--display-name=cli-pipeline",
        f"--config={config}",
        "--model-display-name=cli-model",
        f"--model-container-image={pipeline_scenarios.SERVING}",
        "--model-id=cli-model",
    )
    assert created.returncode == 0, created.stderr
    name = created.stdout.strip()
    done = _wait(server, name, "PIPELINE_STATE_SUCCEEDED")
    assert done["modelToUpload"]["name"].endswith("/models/cli-model")
    assert (tmp_path / "out" / "model" / "m.txt").read_text() == "cli"
    listed = _cli(server, "pipelines", "list", "--filter", 'display_name="cli-pipeline"')
    assert (
        listed.returncode == 0
        and "PIPELINE_STATE_SUCCEEDED" in listed.stdout
        and "cli-model@1" in listed.stdout
    )
    again = _cli(
        server,
        "models",
        "upload",
        "--display-name=cli-model",
        f"--container-image-uri={pipeline_scenarios.SERVING}",
        "--artifact-uri=gs://elsewhere/v2",
        "--parent-model=cli-model",
        "--version-alias=canary",
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().endswith("/models/cli-model@2")
    versions = _cli(server, "models", "versions", "cli-model", "--format", "json")
    assert versions.returncode == 0, versions.stderr
    assert sorted((v["versionId"], v["versionAliases"]) for v in json.loads(versions.stdout)) == [
        ("1", ["default"]),
        ("2", ["canary"]),
    ]
    described = _cli(server, "models", "describe", "cli-model@canary")
    assert json.loads(described.stdout)["artifactUri"] == "gs://elsewhere/v2"
    assert _cli(server, "models", "delete", "cli-model@2").returncode == 0
    table = _cli(server, "models", "list")
    assert (
        table.returncode == 0
        and "cli-model" in table.stdout
        and str(tmp_path / "out" / "model") in table.stdout
    )
    assert _cli(server, "models", "delete", "cli-model").returncode == 0
    missing = _cli(server, "models", "describe", "cli-model")
    assert missing.returncode != 0 and "NOT_FOUND" in missing.stderr


def test_grpc_pipeline_and_model_services(tmp_path: Path) -> None:
    """PipelineService and ModelService through the official gRPC clients."""
    from google.cloud.aiplatform_v1.services.model_service.transports import ModelServiceGrpcTransport
    from google.cloud.aiplatform_v1.services.pipeline_service.transports import PipelineServiceGrpcTransport

    srv = GrpcServerProcess(tmp_path / "server")
    srv.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{srv.grpc_port}")
    try:
        pipelines = av1.PipelineServiceClient(transport=PipelineServiceGrpcTransport(channel=channel))
        models = av1.ModelServiceClient(transport=ModelServiceGrpcTransport(channel=channel))
        parent = f"projects/{PROJECT}/locations/{LOCATION}"
        body = _pipeline(_write_model("grpc"), str(tmp_path / "out"))
        message = av1.TrainingPipeline.from_json(json.dumps(body))
        created = pipelines.create_training_pipeline(parent=parent, training_pipeline=message)
        deadline = time.monotonic() + WAIT_S
        while (got := pipelines.get_training_pipeline(name=created.name)).state != (
            av1.PipelineState.PIPELINE_STATE_SUCCEEDED
        ):
            assert time.monotonic() < deadline, got
            time.sleep(0.2)
        assert got.training_task_metadata["backingCustomJob"].startswith(parent + "/customJobs/")
        listed = pipelines.list_training_pipelines(
            request=av1.ListTrainingPipelinesRequest(parent=parent, filter='state="PIPELINE_STATE_SUCCEEDED"')
        )
        assert [p.name for p in listed] == [created.name]
        model = models.get_model(name=got.model_to_upload.name)
        assert model.artifact_uri == str(tmp_path / "out" / "model") and model.version_id == "1"
        assert [m.name for m in models.list_models(parent=parent)] == [model.name]
        upload = models.upload_model(
            request=av1.UploadModelRequest(
                parent=parent,
                parent_model=model.name,
                model=av1.Model(
                    display_name="v2", container_spec=av1.ModelContainerSpec(image_uri="serve:1")
                ),
            )
        )
        assert upload.result(timeout=10).model_version_id == "2"
        assert len(list(models.list_model_versions(name=model.name))) == 2
        with pytest.raises(gexc.NotFound):
            models.get_model(name=model.name + "@7")
        with pytest.raises(gexc.InvalidArgument) as bad:
            pipelines.create_training_pipeline(
                parent=parent, training_pipeline=av1.TrainingPipeline(display_name="no task")
            )
        assert "training_task_definition" in str(bad.value)
        models.delete_model(name=model.name).result(timeout=10)
        with pytest.raises(gexc.NotFound):
            models.get_model(name=model.name)
    finally:
        channel.close()
        srv.stop()


TUNING_TASK = (
    "gs://google-cloud-aiplatform/schema/trainingjob/definition/hyperparameter_tuning_task_1.0.0.yaml"
)
# Saves its x where its trial's model goes, and reports score = -(x - 2)^2 through cloudml-hypertune.
TRIAL = """
import argparse, os, hypertune
x = argparse.ArgumentParser()
x.add_argument("--x", type=int)
x = x.parse_args().x
os.makedirs(os.environ["AIP_MODEL_DIR"], exist_ok=True)
open(os.path.join(os.environ["AIP_MODEL_DIR"], "x.txt"), "w").write(str(x))
hypertune.HyperTune().report_hyperparameter_tuning_metric(
    hyperparameter_metric_tag="score", metric_value=-(x - 2) ** 2)
"""


def test_a_tuning_task_uploads_the_best_trials_model(server: ServerProcess, tmp_path: Path) -> None:
    inputs = {
        "studySpec": {
            "metrics": [{"metricId": "score", "goal": "MAXIMIZE"}],
            "parameters": [{"parameterId": "x", "integerValueSpec": {"minValue": 1, "maxValue": 3}}],
            "algorithm": "GRID_SEARCH",
        },
        "maxTrialCount": 3,
        "parallelTrialCount": 3,
        "trialJobSpec": _pipeline([sys.executable, "-c", TRIAL], str(tmp_path / "out"))["trainingTaskInputs"],
    }
    body = _pipeline(["true"], None, trainingTaskDefinition=TUNING_TASK, trainingTaskInputs=inputs)
    name = _create(server, body)["name"]
    done = _wait(server, name, "PIPELINE_STATE_SUCCEEDED")
    study_name = done["trainingTaskMetadata"]["backingHyperparameterTuningJob"]
    study = _get(server, study_name)
    assert study["state"] == "JOB_STATE_SUCCEEDED" and len(study["trials"]) == 3
    best = next(t for t in study["trials"] if t["parameters"][0]["value"] == 2)
    model = _get(server, done["modelToUpload"]["name"])
    assert model["artifactUri"] == str(tmp_path / "out" / best["id"] / "model")
    assert (Path(model["artifactUri"]) / "x.txt").read_text() == "2"
    bad = dict(body, trainingTaskInputs={**inputs, "maxTrialCount": 0, "trialSpec": {}})
    refused = requests.post(f"{_base(server)}/trainingPipelines", json=bad, timeout=10)
    assert (
        refused.status_code == 400 and "training_task_inputs.trialSpec" in refused.json()["error"]["message"]
    )
    bad = dict(body, trainingTaskInputs={**inputs, "maxTrialCount": 0})
    refused = requests.post(f"{_base(server)}/trainingPipelines", json=bad, timeout=10)
    assert (
        refused.status_code == 400
        and "training_task_inputs.max_trial_count" in refused.json()["error"]["message"]
    )
