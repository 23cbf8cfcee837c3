"""`gcloud ai custom-jobs` (the google-cloud-cli package), unmodified, against our server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml
from google.cloud import aiplatform_v1 as av1

from e2e.vertex import rest_client, wait_for
from support.server import ServerProcess

PROJECT = "gcloud-project"
REGION = "us-central1"
GCLOUD_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def gcloud() -> list[str]:
    path = shutil.which("gcloud")
    if path is None:
        pytest.fail(
            "gcloud is not installed: install the Debian package google-cloud-cli (Google's apt repository)"
        )
    return [path]


def run(
    server: ServerProcess, tmp: Path, *args: str, check: bool = True, group: str = "custom-jobs"
) -> subprocess.CompletedProcess[str]:
    config = tmp / "gcloud-config"
    config.mkdir(exist_ok=True)
    (config / "gce").write_text("False")  # skip the GCE metadata probe
    env = {
        **os.environ,
        "CLOUDSDK_CONFIG": str(config),
        "CLOUDSDK_CORE_PROJECT": PROJECT,
        "CLOUDSDK_AUTH_DISABLE_CREDENTIALS": "true",
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_AIPLATFORM": server.url + "/",
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING": server.url + "/",
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
    }
    result = subprocess.run(
        ["gcloud", "ai", group, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=GCLOUD_TIMEOUT_S,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_create_with_flags_then_describe_list_and_stream_logs(
    server: ServerProcess, gcloud: list[str], tmp_path: Path
) -> None:
    # The job ends when its primary does, and its workers are stopped then: the primary's
    # second lets every worker print its lines first, also on the other node of a Ray cluster.
    script = "for i in 1 2 3; do echo step $i; done; sleep 1"
    created = run(
        server,
        tmp_path,
        "create",
        f"--region={REGION}",
        "--display-name=gcloud-flags",
        "--worker-pool-spec=machine-type=n1-standard-4,replica-count=1,container-image-uri=local,"
        "accelerator-type=NVIDIA_TESLA_T4,accelerator-count=1",
        "--worker-pool-spec=",
        "--worker-pool-spec=machine-type=n1-standard-4,replica-count=2,container-image-uri=local",
        "--command=sh",
        f"--args=-c,{script}",
        "--labels=team=ml",
        "--format=json",
    )
    job = json.loads(created.stdout)
    name = job["name"]
    assert name.startswith(f"projects/{PROJECT}/locations/{REGION}/customJobs/")
    assert job["jobSpec"]["workerPoolSpecs"][1] == {}
    assert job["jobSpec"]["workerPoolSpecs"][0]["machineSpec"]["acceleratorType"] == "NVIDIA_TESLA_T4"
    assert wait_for(rest_client(server.url), name).state.name == "JOB_STATE_SUCCEEDED"

    described = json.loads(run(server, tmp_path, "describe", name, "--format=json").stdout)
    assert described["state"] == "JOB_STATE_SUCCEEDED" and described["labels"] == {"team": "ml"}
    by_id = run(server, tmp_path, "describe", name.rsplit("/", 1)[1], f"--region={REGION}", "--format=json")
    assert json.loads(by_id.stdout)["name"] == name

    listed = json.loads(run(server, tmp_path, "list", f"--region={REGION}", "--format=json").stdout)
    assert name in [j["name"] for j in listed]

    logs = run(server, tmp_path, "stream-logs", name, "--polling-interval=1")
    lines = [line.split("\t") for line in logs.stdout.splitlines()]
    primary = [fields[3] for fields in lines if fields[2] == "workerpool0-0"]
    # Without a T4 here, the lenient default leaves it out and the log's first line says so.
    noted = [line for line in primary if line.startswith("[customjobs] workerpool0-0 asked for")]
    assert primary[len(noted) :] == ["step 1", "step 2", "step 3"] and len(noted) <= 1
    assert sum(1 for fields in lines if fields[2] == "workerpool2-1") == 3
    assert all(fields[0] == "INFO" for fields in lines)


def test_create_with_config_file_and_cancel(server: ServerProcess, gcloud: list[str], tmp_path: Path) -> None:
    config = tmp_path / "job.yaml"
    spec = {
        "workerPoolSpecs": [
            {
                "machineSpec": {"machineType": "n1-standard-4"},
                "replicaCount": 1,
                "containerSpec": {
                    "imageUri": "local",
                    "command": [sys.executable, "-c", "import time; time.sleep(600)"],
                },
            }
        ],
        "scheduling": {"timeout": "3600s"},
    }
    config.write_text(yaml.safe_dump(spec))
    created = run(
        server,
        tmp_path,
        "create",
        f"--region={REGION}",
        "--display-name=gcloud-config",
        f"--config={config}",
        "--format=json",
    )
    name = json.loads(created.stdout)["name"]
    client = rest_client(server.url)
    wait_for(client, name, {av1.JobState.JOB_STATE_RUNNING})
    run(server, tmp_path, "cancel", name)
    assert wait_for(client, name).state.name == "JOB_STATE_CANCELLED"
    described = json.loads(run(server, tmp_path, "describe", name, "--format=json").stdout)
    assert described["jobSpec"]["scheduling"]["timeout"] == "3600s"
    assert described["error"]["code"] == 1


def test_errors_print_googles_status_and_exit_1(
    server: ServerProcess, gcloud: list[str], tmp_path: Path
) -> None:
    missing = f"projects/{PROJECT}/locations/{REGION}/customJobs/1234567890123456789"
    result = run(server, tmp_path, "describe", missing, check=False)
    assert result.returncode == 1
    assert "NOT_FOUND" in result.stderr and "does not exist" in result.stderr


HP_CONFIG = {
    "studySpec": {
        "metrics": [{"metricId": "loss", "goal": "MINIMIZE"}],
        "parameters": [{"parameterId": "num", "integerValueSpec": {"minValue": 1, "maxValue": 3}}],
        "algorithm": "GRID_SEARCH",
    },
    "trialJobSpec": {
        "workerPoolSpecs": [
            {
                "machineSpec": {"machineType": "n1-standard-1"},
                "replicaCount": 1,
                "containerSpec": {
                    "imageUri": "local/python",
                    "command": [
                        sys.executable,
                        "-c",
                        "import sys, hypertune; n = int(sys.argv[-1].split('=')[1]); "
                        "hypertune.HyperTune().report_hyperparameter_tuning_metric('loss', abs(n - 2))",
                    ],
                },
            }
        ]
    },
}


def test_hp_tuning_jobs_create_describe_list_cancel(
    server: ServerProcess, gcloud: list[str], tmp_path: Path
) -> None:
    config = tmp_path / "hp.yaml"
    config.write_text(yaml.safe_dump(HP_CONFIG))
    hp = {"group": "hp-tuning-jobs"}
    created = run(
        server,
        tmp_path,
        "create",
        f"--region={REGION}",
        "--display-name=gcloud-hp",
        f"--config={config}",
        "--max-trial-count=3",
        "--parallel-trial-count=3",
        "--format=json",
        **hp,
    )
    name = json.loads(created.stdout)["name"]
    assert f"/locations/{REGION}/hyperparameterTuningJobs/" in name
    job_id = name.rsplit("/", 1)[1]

    def described() -> dict[str, object]:
        out = run(server, tmp_path, "describe", job_id, f"--region={REGION}", "--format=json", **hp)
        result: dict[str, object] = json.loads(out.stdout)
        return result

    deadline = time.monotonic() + 60
    while (job := described())["state"] != "JOB_STATE_SUCCEEDED":
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
    trials = job["trials"]
    assert isinstance(trials, list) and sorted(t["parameters"][0]["value"] for t in trials) == [1, 2, 3]
    listed = run(server, tmp_path, "list", f"--region={REGION}", "--format=value(name)", **hp)
    assert name in listed.stdout.split()
    refused = run(server, tmp_path, "cancel", job_id, f"--region={REGION}", check=False, **hp)
    assert refused.returncode != 0 and "JOB_STATE_SUCCEEDED" in refused.stderr


def test_models_list_describe_delete(server: ServerProcess, gcloud: list[str], tmp_path: Path) -> None:
    base = f"{server.url}/v1/projects/{PROJECT}/locations/{REGION}"
    body = {
        "modelId": "gcloud-model",
        "model": {
            "displayName": "gcloud-model",
            "artifactUri": "gs://models/gcloud-model",
            "containerSpec": {"imageUri": "us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest"},
        },
    }
    uploaded = requests.post(f"{base}/models:upload", json=body, timeout=10)
    assert uploaded.status_code == 200, uploaded.text
    models = {"group": "models"}
    listed = run(server, tmp_path, "list", f"--region={REGION}", "--format=json", **models)
    assert [m["displayName"] for m in json.loads(listed.stdout)] == ["gcloud-model"]
    described = run(
        server, tmp_path, "describe", "gcloud-model", f"--region={REGION}", "--format=json", **models
    )
    model = json.loads(described.stdout)
    assert model["artifactUri"] == "gs://models/gcloud-model" and model["versionId"] == "1"
    run(server, tmp_path, "delete", "gcloud-model", f"--region={REGION}", **models)
    missing = run(server, tmp_path, "describe", "gcloud-model", f"--region={REGION}", check=False, **models)
    assert missing.returncode != 0 and "NOT_FOUND" in missing.stderr + missing.stdout
