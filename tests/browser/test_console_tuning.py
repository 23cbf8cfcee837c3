"""The console's HyperparameterTuningJobs pages in a real browser: the scope's list, a finished
grid study's trials with the best one marked and plotted, and Cancel on a running study. The
trials really run and report through the unmodified cloudml-hypertune package."""

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
from support.server import ServerProcess, processes_with

pytestmark = pytest.mark.timeout(SETUP_TIMEOUT_S + 180)
LOCATION = "us-central1"
# Room for several one-vCPU trials at once.
CAPACITY = ("--cpus", "8", "--memory-gb", "32")
UI_TIMEOUT_MS = 30_000
WAIT_S = 90
ACTIVE = {"JOB_STATE_QUEUED", "JOB_STATE_PENDING", "JOB_STATE_RUNNING", "JOB_STATE_CANCELLING"}
Shot = Callable[[Page, str], Path]

# -(x - 3)^2: the best of x in 1..4 is x = 3, whose score 0 proto3 JSON may leave out.
OBJECTIVE = """
import argparse, hypertune
p = argparse.ArgumentParser()
p.add_argument("--x", type=int)
a = p.parse_args()
hypertune.HyperTune().report_hyperparameter_tuning_metric(
    hyperparameter_metric_tag="score", metric_value=float(-(a.x - 3) ** 2), global_step=1)
"""
X_RANGE = {"parameterId": "x", "integerValueSpec": {"minValue": 1, "maxValue": 4}}


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("console-tuning"), *CAPACITY)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def project(console_server: ServerProcess) -> Iterator[str]:
    """A project of the test's own; no tuning job is left running after the test."""
    name = f"tuning-{uuid.uuid4().hex[:8]}"
    yield name
    url = f"{_collection(console_server, name)}?pageSize=100"
    deadline = time.monotonic() + 30
    while active := [
        j
        for j in requests.get(url, timeout=10).json().get("hyperparameterTuningJobs", [])
        if j["state"] in ACTIVE
    ]:
        assert time.monotonic() < deadline, f"tuning jobs left running: {active}"
        for job in active:
            if job["state"] != "JOB_STATE_CANCELLING":
                requests.post(f"{console_server.url}/v1/{job['name']}:cancel", json={}, timeout=10)
        time.sleep(0.2)


def _collection(server: ServerProcess, project: str) -> str:
    return f"{server.url}/v1/projects/{project}/locations/{LOCATION}/hyperparameterTuningJobs"


def _create(server: ServerProcess, project: str, name: str, code: str, **fields: Any) -> str:
    body = {
        "displayName": name,
        "maxTrialCount": 4,
        "parallelTrialCount": 2,
        "studySpec": {"metrics": [{"metricId": "score", "goal": "MAXIMIZE"}], "parameters": [X_RANGE]},
        "trialJobSpec": {
            "workerPoolSpecs": [
                {
                    "machineSpec": {"machineType": "n1-standard-1"},
                    "replicaCount": 1,
                    "containerSpec": {"imageUri": "local/python", "command": [sys.executable, "-c", code]},
                }
            ]
        },
        **fields,
    }
    body["studySpec"].update(body.pop("study", {}))
    response = requests.post(_collection(server, project), json=body, timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["name"])


def _get(server: ServerProcess, name: str) -> dict[str, Any]:
    response = requests.get(f"{server.url}/v1/{name}", timeout=10)
    response.raise_for_status()
    job: dict[str, Any] = response.json()
    return job


def _wait(server: ServerProcess, name: str, *states: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while (job := _get(server, name))["state"] not in states:
        assert time.monotonic() < deadline, f"{name} never reached {states}: {job}"
        time.sleep(0.2)
    return job


def test_grid_study_trials_best_trial_and_plot(
    page: Page, console_server: ServerProcess, project: str, screenshot: Shot
) -> None:
    name = _create(console_server, project, "grid-x", OBJECTIVE, study={"algorithm": "GRID_SEARCH"})
    job_id = name.rsplit("/", 1)[1]
    page.goto(f"/#/projects/{project}/locations/{LOCATION}/customJobs")
    page.click("#nav-tuning")
    page.wait_for_url(f"**/#/projects/{project}/locations/{LOCATION}/hyperparameterTuningJobs")
    expect(page.locator("#nav-tuning")).to_have_class("active")
    row = page.locator(f'#tuning-jobs tr[data-job-id="{job_id}"]')
    expect(row).to_contain_text("grid-x")
    expect(row).to_contain_text("GRID_SEARCH")
    expect(row.locator(".trial-count")).to_have_text("4 / 4", timeout=WAIT_S * 1000)
    expect(row.locator(".badge")).to_have_text("Succeeded")
    screenshot(page, "tuning-list")
    page.fill("#filter", 'display_name="not-this-one"')
    page.press("#filter", "Enter")
    expect(page.locator("#tuning-jobs tr.empty")).to_contain_text("No tuning job matches")
    page.fill("#filter", 'display_name="grid-x"')
    page.press("#filter", "Enter")
    expect(row).to_contain_text("grid-x")
    assert "filter=" in page.url
    page.evaluate("window.__sameDocument = true")
    row.locator("a.job-link").click()
    page.wait_for_url(f"**/#/{name}")

    expect(page.locator("h1 .badge")).to_have_text("Succeeded")
    expect(page.locator("#cancel")).to_be_hidden()
    expect(page.locator("#metrics")).to_have_text("score MAXIMIZE")
    expect(page.locator("#algorithm")).to_have_text("GRID_SEARCH")
    expect(page.locator("#parameters")).to_have_text("x integer [1, 4]")
    expect(page.locator("#trial-count")).to_contain_text("4 / 4")
    rows = page.locator("#trials tbody tr")
    expect(rows).to_have_count(4)
    shown = {}
    for i in range(4):
        trial = rows.nth(i)
        x = trial.locator('td[data-param="x"]').inner_text()
        shown[x] = (
            trial.get_attribute("data-trial-id"),
            trial.locator('td[data-metric="score"]').inner_text(),
        )
        expect(trial.locator("td.state .badge")).to_have_text("Succeeded")
    assert {x: score for x, (_, score) in shown.items()} == {"1": "-4", "2": "-1", "3": "0", "4": "-1"}, shown
    best_id = shown["3"][0]
    best = page.locator("#trials tr.best")
    expect(best).to_have_count(1)
    expect(best).to_have_attribute("data-trial-id", best_id)
    expect(best.locator(".best-badge")).to_have_text("Best")

    points = page.locator("svg#plot circle.point")
    expect(points).to_have_count(4)
    expect(page.locator("svg#plot circle.point.best")).to_have_count(1)
    expect(page.locator("svg#plot circle.best")).to_have_attribute("data-trial", best_id)
    # The best point (score 0) is the highest one drawn: SVG's y grows downwards.
    heights = {p.get_attribute("data-trial"): float(p.get_attribute("cy") or "nan") for p in points.all()}
    assert min(heights, key=lambda t: heights[t]) == best_id, heights
    assert page.evaluate("window.__sameDocument") is True
    screenshot(page, "tuning-job")

    # A trial's CustomJob opens on the job page.
    trials = {t["id"]: t for t in _get(console_server, name)["trials"]}
    # The best score, 0, is the proto3 default: the wire leaves it out, and the page still shows 0.
    assert "value" not in trials[best_id]["finalMeasurement"]["metrics"][0], trials[best_id]
    link = best.locator("a.trial-job")
    expect(link).to_have_attribute("href", f"#/{trials[best_id]['customJob']}")
    link.click()
    page.wait_for_url(f"**/#/{trials[best_id]['customJob']}")
    expect(page.locator("h1 .badge")).to_have_text("Succeeded")
    expect(page.locator("#timeline")).to_contain_text("Succeeded")


def test_cancel_a_running_study_from_its_page(
    page: Page, console_server: ServerProcess, project: str, screenshot: Shot
) -> None:
    marker = f"tuning-console-{uuid.uuid4().hex[:8]}"
    sleeper = f"import time; time.sleep(600)  # {marker}"
    name = _create(console_server, project, "long-study", sleeper, maxTrialCount=3)
    page.goto(f"/#/{name}")
    expect(page.locator("h1 .badge")).to_have_text("Running", timeout=UI_TIMEOUT_MS)
    rows = page.locator("#trials tbody tr")
    expect(rows).to_have_count(2, timeout=UI_TIMEOUT_MS)  # parallelTrialCount, live
    expect(rows.locator("td.state .badge")).to_have_text(["Active", "Active"])
    expect(page.locator("#plot-empty")).to_be_visible()
    expect(page.locator("#trials tr.best")).to_have_count(0)
    deadline = time.monotonic() + 30
    while len(processes_with(marker)) < 2:
        assert time.monotonic() < deadline, "the trials' replicas never started"
        time.sleep(0.1)

    screenshot(page, "tuning-running")
    page.click("#cancel")
    expect(page.locator("#confirm")).to_be_visible()
    page.get_by_role("button", name="Keep it").click()  # the first answer: no
    time.sleep(0.5)
    assert _get(console_server, name)["state"] == "JOB_STATE_RUNNING"
    page.click("#cancel")
    page.click("#confirm-yes")
    expect(page.locator("h1 .badge")).to_have_text("Cancelled", timeout=UI_TIMEOUT_MS)
    expect(page.locator("#cancel")).to_be_hidden()
    expect(rows.locator("td.state .badge")).to_have_text(["Infeasible", "Infeasible"])
    assert _wait(console_server, name, "JOB_STATE_CANCELLED")["state"] == "JOB_STATE_CANCELLED"
    assert processes_with(marker) == []
