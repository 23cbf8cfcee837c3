"""The console's TrainingPipelines and Models pages in a real browser: a pipeline that succeeds,
with links to its backing CustomJob and to the Model it uploaded; the models list and a model's
versions after a second pipeline adds one under parentModel; and Cancel on a running pipeline.
The pipelines' backing jobs really run."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from support.chromium import SETUP_TIMEOUT_S
from support.cleanup import cancel_all
from support.server import ServerProcess, processes_with

pytestmark = pytest.mark.timeout(SETUP_TIMEOUT_S + 180)
LOCATION = "us-central1"
CUSTOM_TASK = "gs://google-cloud-aiplatform/schema/trainingjob/definition/custom_task_1.0.0.yaml"
SERVING = "serve:latest"
UI_TIMEOUT_MS = 30_000
WAIT_S = 90
ACTIVE = {f"PIPELINE_STATE_{s}" for s in ("QUEUED", "PENDING", "RUNNING", "CANCELLING")}
Shot = Callable[[Page, str], Path]


@pytest.fixture
def project(console_server: ServerProcess) -> Iterator[str]:
    """A project of the test's own; no pipeline, and no job, is left running after the test."""
    name = f"pipelines-{uuid.uuid4().hex[:8]}"
    yield name
    url = f"{_collection(console_server, name)}?pageSize=100"
    deadline = time.monotonic() + 30
    while active := [
        p for p in requests.get(url, timeout=10).json().get("trainingPipelines", []) if p["state"] in ACTIVE
    ]:
        assert time.monotonic() < deadline, f"pipelines left running: {active}"
        for pipeline in active:
            if pipeline["state"] != "PIPELINE_STATE_CANCELLING":
                requests.post(f"{console_server.url}/v1/{pipeline['name']}:cancel", json={}, timeout=10)
        time.sleep(0.2)
    cancel_all(console_server.url, f"projects/{name}/locations/{LOCATION}")


def _collection(server: ServerProcess, project: str, collection: str = "trainingPipelines") -> str:
    return f"{server.url}/v1/projects/{project}/locations/{LOCATION}/{collection}"


def _create(server: ServerProcess, project: str, name: str, code: str, out: Path, **fields: Any) -> str:
    body: dict[str, Any] = {
        "displayName": name,
        "trainingTaskDefinition": CUSTOM_TASK,
        "trainingTaskInputs": {
            "workerPoolSpecs": [
                {
                    "machineSpec": {"machineType": "n1-standard-4"},
                    "replicaCount": 1,
                    "containerSpec": {"imageUri": "local/python", "command": [sys.executable, "-c", code]},
                }
            ],
            "baseOutputDirectory": {"outputUriPrefix": str(out)},
        },
        "modelToUpload": {"displayName": "m", "containerSpec": {"imageUri": SERVING}},
    }
    body["modelToUpload"].update(fields.pop("model", {}))
    body.update(fields)
    response = requests.post(_collection(server, project), json=body, timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["name"])


def _get(server: ServerProcess, name: str) -> dict[str, Any]:
    response = requests.get(f"{server.url}/v1/{name}", timeout=10)
    response.raise_for_status()
    found: dict[str, Any] = response.json()
    return found


def _wait(server: ServerProcess, name: str, *states: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while (found := _get(server, name))["state"] not in states:
        assert time.monotonic() < deadline, f"{name} never reached {states}: {found}"
        time.sleep(0.2)
    return found


def _saves_model(text: str) -> str:
    """A training job that writes one file under AIP_MODEL_DIR, as a real one saves its model."""
    return (
        "import os; d = os.environ['AIP_MODEL_DIR']; os.makedirs(d, exist_ok=True); "
        f"open(os.path.join(d, 'model.txt'), 'w').write({text!r})"
    )


def test_pipeline_links_its_job_and_model_and_the_model_lists_its_versions(
    page: Page, console_server: ServerProcess, project: str, tmp_path: Path, screenshot: Shot
) -> None:
    first_name = _create(console_server, project, "train-v1", _saves_model("v1"), tmp_path / "v1")
    first = _wait(console_server, first_name, "PIPELINE_STATE_SUCCEEDED", "PIPELINE_STATE_FAILED")
    assert first["state"] == "PIPELINE_STATE_SUCCEEDED", first
    first_id = first_name.rsplit("/", 1)[1]
    backing = first["trainingTaskMetadata"]["backingCustomJob"]
    model_name = first["modelToUpload"]["name"]
    model_id = model_name.rsplit("/", 1)[1]
    assert first["modelToUpload"]["versionId"] == "1"

    # The list: reached from the nav link, the pipeline with its state and its model.
    page.goto(f"/#/projects/{project}/locations/{LOCATION}/customJobs")
    page.click("#nav-pipelines")
    page.wait_for_url(f"**/#/projects/{project}/locations/{LOCATION}/trainingPipelines")
    expect(page.locator("#nav-pipelines")).to_have_class("active")
    row = page.locator(f'#pipelines tr[data-pipeline-id="{first_id}"]')
    expect(row).to_contain_text("train-v1")
    expect(row.locator("td.state .badge")).to_have_text("Succeeded")
    expect(row.locator("a.model-link")).to_have_text("m · version 1")
    expect(row.locator("a.model-link")).to_have_attribute("href", f"#/{model_name}")
    screenshot(page, "pipelines-list")
    page.fill("#filter", 'display_name="not-this-one"')
    page.press("#filter", "Enter")
    expect(page.locator("#pipelines tr.empty")).to_contain_text("No training pipeline matches")
    page.fill("#filter", 'state="PIPELINE_STATE_SUCCEEDED"')
    page.press("#filter", "Enter")
    expect(row).to_contain_text("train-v1")
    assert "filter=" in page.url
    row.locator("a.job-link").click()
    page.wait_for_url(f"**/#/{first_name}")

    # The pipeline's page: final, its task's worker pool, and links to its job and its model.
    expect(page.locator("h1 .badge")).to_have_text("Succeeded")
    expect(page.locator("#cancel")).to_be_hidden()
    expect(page.locator("#job-error")).to_have_count(0)
    pool = page.locator('#worker-pools [data-pool="0"]')
    expect(pool.locator(".machine-type")).to_have_text("n1-standard-4")
    expect(pool.locator(".replica-count")).to_have_text("1")
    expect(pool.locator(".image")).to_have_text("local/python")
    expect(page.locator("#output-dir")).to_have_text(str(tmp_path / "v1"))
    expect(page.locator("#model-link")).to_have_attribute("href", f"#/{model_name}")
    expect(page.locator("#model-link")).to_have_text("m · version 1")
    job_link = page.locator("#backing-job")
    expect(job_link).to_have_attribute("href", f"#/{backing}")
    expect(job_link).to_have_text(backing.rsplit("/", 1)[1])
    screenshot(page, "pipeline")
    job_link.click()
    page.wait_for_url(f"**/#/{backing}")
    expect(page.locator("h1 .badge")).to_have_text("Succeeded")
    expect(page.locator("#timeline")).to_contain_text("Succeeded")
    page.go_back()
    page.wait_for_url(f"**/#/{first_name}")
    page.locator("#model-link").click()
    page.wait_for_url(f"**/#/{model_name}")

    # The model's page: one version, the default.
    versions = page.locator("#versions tbody tr")
    expect(versions).to_have_count(1)
    expect(page.locator("#default-version")).to_have_text("1")
    expect(page.locator("#container-image")).to_have_text(SERVING)
    artifact_uri = _get(console_server, model_name)["artifactUri"]
    assert artifact_uri.startswith(str(tmp_path / "v1")), artifact_uri
    expect(page.locator("#artifact-uri")).to_have_text(artifact_uri)
    expect(page.locator("#pipeline-link")).to_have_attribute("href", f"#/{first_name}")

    # A second pipeline under parentModel adds version 2, the new default; the page shows it live.
    second_name = _create(
        console_server,
        project,
        "train-v2",
        _saves_model("v2"),
        tmp_path / "v2",
        parentModel=model_name,
        model={"versionAliases": ["default"]},
    )
    second = _wait(console_server, second_name, "PIPELINE_STATE_SUCCEEDED", "PIPELINE_STATE_FAILED")
    assert second["state"] == "PIPELINE_STATE_SUCCEEDED", second
    uploaded = second["modelToUpload"]
    assert (uploaded["name"], uploaded["versionId"]) == (model_name, "2"), second
    expect(versions).to_have_count(2, timeout=UI_TIMEOUT_MS)
    expect(page.locator("#default-version")).to_have_text("2")
    v1 = page.locator('#versions tr[data-version-id="1"]')
    v2 = page.locator('#versions tr[data-version-id="2"]')
    expect(v2.locator(".alias")).to_have_text(["default"])
    expect(v1.locator(".alias")).to_have_count(0)
    expect(page.locator("#versions tr.default")).to_have_attribute("data-version-id", "2")
    expect(v1.locator("a.pipeline-link")).to_have_attribute("href", f"#/{first_name}")
    expect(v2.locator("a.pipeline-link")).to_have_attribute("href", f"#/{second_name}")
    expect(v2.locator(".artifact-uri")).to_contain_text(str(tmp_path / "v2"))
    expect(page.locator("#artifact-uri")).to_contain_text(str(tmp_path / "v2"))
    screenshot(page, "model")

    # The models list: the model once, as its default version.
    page.click("#nav-models")
    page.wait_for_url(f"**/#/projects/{project}/locations/{LOCATION}/models")
    expect(page.locator("#nav-models")).to_have_class("active")
    model_rows = page.locator(f'#models tr[data-model-id="{model_id}"]')
    expect(model_rows).to_have_count(1)
    expect(model_rows.locator(".version")).to_have_text("2")
    expect(model_rows.locator(".alias")).to_have_text(["default"])
    expect(model_rows.locator("a.pipeline-link")).to_have_attribute("href", f"#/{second_name}")
    expect(model_rows.locator("a.job-link")).to_have_text("m")
    screenshot(page, "models-list")
    model_rows.locator("a.pipeline-link").click()
    page.wait_for_url(f"**/#/{second_name}")
    expect(page.locator("#model-link")).to_have_text("m · version 2")


def test_cancel_a_running_pipeline_from_its_page(
    page: Page, console_server: ServerProcess, project: str, tmp_path: Path, screenshot: Shot
) -> None:
    marker = f"pipeline-console-{uuid.uuid4().hex[:8]}"
    sleeper = f"import time; time.sleep(600)  # {marker}"
    name = _create(console_server, project, "long-train", sleeper, tmp_path)
    page.goto(f"/#/{name}")
    expect(page.locator("h1 .badge")).to_have_text("Running", timeout=UI_TIMEOUT_MS)
    expect(page.locator("#cancel")).to_be_visible()
    expect(page.locator("#model-link")).to_have_count(0)  # nothing uploaded before the training ends
    expect(page.locator("#outputs")).to_contain_text("uploaded when the training succeeds")
    backing = _get(console_server, name)["trainingTaskMetadata"]["backingCustomJob"]
    expect(page.locator("#backing-job")).to_have_attribute("href", f"#/{backing}")
    deadline = time.monotonic() + 30
    while not processes_with(marker):
        assert time.monotonic() < deadline, "the backing job's replica never started"
        time.sleep(0.1)

    screenshot(page, "pipeline-running")
    page.click("#cancel")
    expect(page.locator("#confirm")).to_be_visible()
    page.get_by_role("button", name="Keep it").click()  # the first answer: no
    time.sleep(0.5)
    assert _get(console_server, name)["state"] == "PIPELINE_STATE_RUNNING"
    page.click("#cancel")
    page.click("#confirm-yes")
    expect(page.locator("h1 .badge")).to_have_text("Cancelled", timeout=UI_TIMEOUT_MS)
    expect(page.locator("#cancel")).to_be_hidden()
    expect(page.locator("#job-error")).to_contain_text("CANCELLED")
    assert _wait(console_server, name, "PIPELINE_STATE_CANCELLED")["state"] == "PIPELINE_STATE_CANCELLED"
    assert _wait(console_server, backing, "JOB_STATE_CANCELLED")["state"] == "JOB_STATE_CANCELLED"
    deadline = time.monotonic() + 10
    while processes_with(marker):
        assert time.monotonic() < deadline, "the backing job's replica outlived the cancel"
        time.sleep(0.1)
