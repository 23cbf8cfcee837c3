"""HyperparameterTuningJobs end to end: the official SDK and REST against a real server, trials
that really run and report through the unmodified cloudml-hypertune, searched by Optuna."""

from __future__ import annotations

import csv
import itertools
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from google.auth.credentials import AnonymousCredentials
from google.cloud import aiplatform
from google.cloud.aiplatform import hyperparameter_tuning as hpt

from support.server import ServerProcess, processes_with

LOCATION = "us-central1"
WAIT_S = 90
# Room for several one-vCPU trials at once (the machine has 2 cores; trials here mostly sleep).
CAPACITY = ("--cpus", "8", "--memory-gb", "32")

# The objective: -(x - 3)^2 (+ a bonus for opt == "b"), reported at step 1, as a trainer would.
OBJECTIVE = """
import argparse, hypertune
p = argparse.ArgumentParser()
p.add_argument("--x", type=float)
p.add_argument("--opt", default="a")
a = p.parse_args()
score = -(a.x - 3) ** 2 + (0.5 if a.opt == "b" else 0)
hypertune.HyperTune().report_hyperparameter_tuning_metric(
    hyperparameter_metric_tag="score", metric_value=score, global_step=1)
"""
# Writes what it was given (argv, the trial's environment) where AIP_MODEL_DIR says, then reports.
RECORDER = """
import json, os, sys, time, hypertune
os.makedirs(os.environ["AIP_MODEL_DIR"], exist_ok=True)
env = {k: v for k, v in os.environ.items() if k.startswith(("CLOUD_ML", "AIP_"))}
seen = {"argv": sys.argv[1:], "env": env}
with open(os.path.join(os.environ["AIP_MODEL_DIR"], "seen.json"), "a") as f:
    f.write(json.dumps(seen) + "\\n")
time.sleep(0.3)
hypertune.HyperTune().report_hyperparameter_tuning_metric(hyperparameter_metric_tag="m", metric_value=1.0)
"""


def _pool(code: str, *extra: str) -> dict[str, Any]:
    return {
        "machineSpec": {"machineType": "n1-standard-1"},
        "replicaCount": 1,
        "containerSpec": {"imageUri": "local/python", "command": [sys.executable, "-c", code, *extra]},
    }


def _body(code: str, params: list[dict[str, Any]], metric: str = "score", **fields: Any) -> dict[str, Any]:
    study = {"metrics": [{"metricId": metric, "goal": "MAXIMIZE"}], "parameters": params}
    study.update(fields.pop("study", {}))
    spec: dict[str, Any] = {"workerPoolSpecs": [_pool(code)]}
    spec.update(fields.pop("spec", {}))
    return {
        "displayName": f"hp-{uuid.uuid4().hex[:6]}",
        "maxTrialCount": 4,
        "parallelTrialCount": 2,
        "studySpec": study,
        "trialJobSpec": spec,
        **fields,
    }


def _url(server: ServerProcess, project: str) -> str:
    return f"{server.url}/v1/projects/{project}/locations/{LOCATION}/hyperparameterTuningJobs"


def _create(server: ServerProcess, project: str, body: dict[str, Any]) -> str:
    response = requests.post(_url(server, project), json=body, timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["name"])


def _get(server: ServerProcess, name: str) -> dict[str, Any]:
    response = requests.get(f"{server.url}/v1/{name}", timeout=10)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def _wait(server: ServerProcess, name: str, *states: str, timeout_s: float = WAIT_S) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = _get(server, name)
        if job["state"] in states:
            return job
        time.sleep(0.2)
    raise AssertionError(f"{name} never reached {states}: {_get(server, name)}")


def _value(trial: dict[str, Any], parameter: str) -> Any:
    return next(p["value"] for p in trial["parameters"] if p["parameterId"] == parameter)


def _score(trial: dict[str, Any]) -> float:
    return float(trial["finalMeasurement"]["metrics"][0]["value"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("tuning"), *CAPACITY)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def sdk(server: ServerProcess) -> Iterator[None]:
    config = aiplatform.initializer.global_config
    saved = dict(vars(config))
    aiplatform.init(
        project="tuning-sdk",
        location=LOCATION,
        api_endpoint=server.url,
        api_transport="rest",
        credentials=AnonymousCredentials(),
        staging_bucket="gs://tuning-bucket",
    )
    yield
    vars(config).clear()
    vars(config).update(saved)


@pytest.mark.usefixtures("sdk")
def test_sdk_bayesian_study_finds_the_optimum_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aiplatform.jobs, "_JOB_WAIT_TIME", 0.2)
    custom = aiplatform.CustomJob(
        display_name="objective",
        worker_pool_specs=[
            {
                "machine_spec": {"machine_type": "n1-standard-1"},
                "replica_count": 1,
                "container_spec": {"image_uri": "local/python", "command": [sys.executable, "-c", OBJECTIVE]},
            }
        ],
    )
    job = aiplatform.HyperparameterTuningJob(
        display_name="bayes",
        custom_job=custom,
        metric_spec={"score": "maximize"},
        parameter_spec={
            "x": hpt.DoubleParameterSpec(min=0, max=6, scale="linear"),
            "opt": hpt.CategoricalParameterSpec(values=["a", "b"]),
        },
        # The study's seed is its job's id, so every run is another draw: with 14 trials TPE
        # missed the region in 9% of 300 seeded simulations, with 24 in none of 800.
        max_trial_count=24,
        parallel_trial_count=2,
    )
    job.run(sync=True)
    assert job.state.name == "JOB_STATE_SUCCEEDED"
    trials = job.trials
    assert [t.id for t in trials] == [str(n) for n in range(1, 25)]
    assert all(t.state.name == "SUCCEEDED" for t in trials)
    best = max(trials, key=lambda t: t.final_measurement.metrics[0].value)
    params = {p.parameter_id: p.value for p in best.parameters}
    # The optimum is x = 3, opt = b (score 0.5); random picks alone rarely get this close.
    assert abs(params["x"] - 3) < 1.0 and params["opt"] == "b", params
    listed = aiplatform.HyperparameterTuningJob.list(filter='display_name="bayes"')
    assert job.resource_name in [j.resource_name for j in listed]


def test_grid_study_enumerates_its_grid_exactly_and_never_exceeds_parallelism(
    server: ServerProcess, tmp_path: Path
) -> None:
    params = [
        {"parameterId": "a", "integerValueSpec": {"minValue": 1, "maxValue": 3}},
        {"parameterId": "b", "categoricalValueSpec": {"values": ["x", "y"]}},
        {"parameterId": "c", "discreteValueSpec": {"values": [0.25, 8]}},
    ]
    body = _body(
        RECORDER,
        params,
        metric="m",
        maxTrialCount=20,
        parallelTrialCount=3,
        study={"algorithm": "GRID_SEARCH"},
        spec={"baseOutputDirectory": {"outputUriPrefix": str(tmp_path)}},
    )
    name = _create(server, "tuning-grid", body)
    job = _wait(server, name, "JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED")
    assert job["state"] == "JOB_STATE_SUCCEEDED", job
    trials = job["trials"]
    combos = [(_value(t, "a"), _value(t, "b"), _value(t, "c")) for t in trials]
    assert sorted(combos) == sorted(itertools.product([1, 2, 3], ["x", "y"], [0.25, 8])), combos
    # Parallelism, from the trials' own start and end times: never more than 3 at once.
    spans = [(t["startTime"], t["endTime"]) for t in trials]
    for start, _ in spans:
        overlapping = sum(1 for s, e in spans if s <= start < e)
        assert overlapping <= 3, spans
    metric_files = set()
    for trial in trials:
        # Parameters as Vertex passes them, the trial's id, its own output dirs and metric file.
        lines = (tmp_path / trial["id"] / "model" / "seen.json").read_text().splitlines()
        assert len(lines) == 1  # each trial ran once
        seen = json.loads(lines[0])
        a, b, c = _value(trial, "a"), _value(trial, "b"), _value(trial, "c")
        assert seen["argv"] == [f"--a={int(a)}", f"--b={b}", f"--c={0.25 if c == 0.25 else 8}"]
        env = seen["env"]
        assert env["CLOUD_ML_TRIAL_ID"] == trial["id"]
        assert env["AIP_MODEL_DIR"] == f"{tmp_path}/{trial['id']}/model/"
        assert env["AIP_CHECKPOINT_DIR"] == f"{tmp_path}/{trial['id']}/checkpoints/"
        metric_files.add(env["CLOUD_ML_HP_METRIC_FILE"])
        assert trial["finalMeasurement"]["metrics"] == [{"metricId": "m", "value": 1.0}]
    assert len(metric_files) == len(trials)
    # A trial's execution is a CustomJob one can get, but customJobs list shows only the user's own.
    custom = requests.get(f"{server.url}/v1/{trials[0]['customJob']}", timeout=10).json()
    assert custom["state"] == "JOB_STATE_SUCCEEDED"
    listed = requests.get(f"{server.url}/v1/projects/tuning-grid/locations/{LOCATION}/customJobs", timeout=10)
    assert listed.json().get("customJobs", []) == []


def test_trial_without_the_metric_is_infeasible_and_fails_the_job(server: ServerProcess) -> None:
    silent = "import hypertune; hypertune.HyperTune().report_hyperparameter_tuning_metric('other', 1.0)"
    params = [{"parameterId": "x", "doubleValueSpec": {"minValue": 0, "maxValue": 1}}]
    name = _create(server, "tuning-silent", _body(silent, params, maxTrialCount=2, parallelTrialCount=1))
    job = _wait(server, name, "JOB_STATE_FAILED", "JOB_STATE_SUCCEEDED")
    assert job["state"] == "JOB_STATE_FAILED"
    assert [t["state"] for t in job["trials"]] == ["INFEASIBLE", "INFEASIBLE"]
    assert 'without reporting the metric "score"' in job["trials"][0]["infeasibleReason"]
    assert "2 of 2 trials failed" in job["error"]["message"]


def test_measurements_show_while_the_trial_runs_and_best_is_selected(
    server: ServerProcess, tmp_path: Path
) -> None:
    flag = tmp_path / "go-on"
    code = f"""
import os, time, hypertune
ht = hypertune.HyperTune()
ht.report_hyperparameter_tuning_metric(hyperparameter_metric_tag="score", metric_value=5.0, global_step=1)
while not os.path.exists({str(flag)!r}):
    time.sleep(0.05)
ht.report_hyperparameter_tuning_metric(hyperparameter_metric_tag="score", metric_value=2.0, global_step=2)
"""
    params = [{"parameterId": "x", "doubleValueSpec": {"minValue": 0, "maxValue": 1}}]
    body = _body(
        code,
        params,
        maxTrialCount=1,
        parallelTrialCount=1,
        study={"measurementSelectionType": "BEST_MEASUREMENT"},
    )
    name = _create(server, "tuning-live", body)
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        trials = _get(server, name).get("trials", [])
        if trials and trials[0].get("measurements"):
            break
        time.sleep(0.1)
    assert trials[0]["state"] == "ACTIVE"
    assert trials[0]["measurements"][0]["metrics"] == [{"metricId": "score", "value": 5.0}]
    flag.touch()
    job = _wait(server, name, "JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED")
    trial = job["trials"][0]
    assert [m["stepCount"] for m in trial["measurements"]] == ["1", "2"]
    assert trial["finalMeasurement"] == {"stepCount": "1", "metrics": [{"metricId": "score", "value": 5.0}]}


def test_cancel_stops_every_running_trial(server: ServerProcess) -> None:
    marker = f"tuning-cancel-{uuid.uuid4().hex[:8]}"
    code = f"import time; time.sleep(120)  # {marker}"
    params = [{"parameterId": "x", "doubleValueSpec": {"minValue": 0, "maxValue": 1}}]
    name = _create(server, "tuning-cancel", _body(code, params, maxTrialCount=6, parallelTrialCount=3))
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        trials = _get(server, name).get("trials", [])
        # A trial is recorded a moment before its CustomJob is submitted: 404 (no state) until then.
        states = [
            requests.get(f"{server.url}/v1/{t['customJob']}", timeout=10).json().get("state") for t in trials
        ]
        if states == ["JOB_STATE_RUNNING"] * 3:
            break
        time.sleep(0.1)
    assert states == ["JOB_STATE_RUNNING"] * 3  # parallelTrialCount, never more
    assert processes_with(marker)
    response = requests.post(f"{server.url}/v1/{name}:cancel", json={}, timeout=10)
    assert response.status_code == 200, response.text
    job = _wait(server, name, "JOB_STATE_CANCELLED")
    assert len(job["trials"]) == 3
    assert processes_with(marker) == []
    for trial in job["trials"]:
        custom = requests.get(f"{server.url}/v1/{trial['customJob']}", timeout=10).json()
        assert custom["state"] == "JOB_STATE_CANCELLED"
        assert trial["state"] == "INFEASIBLE"
    again = requests.post(f"{server.url}/v1/{name}:cancel", json={}, timeout=10)
    assert again.status_code == 400 and again.json()["error"]["status"] == "FAILED_PRECONDITION"
    deleted = requests.delete(f"{server.url}/v1/{name}", timeout=10)
    assert deleted.status_code == 200 and deleted.json()["done"] is True
    assert requests.get(f"{server.url}/v1/{name}", timeout=10).status_code == 404
    # Its trials' executions and their logs went with it.
    for trial in job["trials"]:
        assert requests.get(f"{server.url}/v1/{trial['customJob']}", timeout=10).status_code == 404
        assert not (server.data_dir / "jobs" / trial["customJob"].rsplit("/", 1)[1]).exists()


BAD_INPUT = {
    "no metrics": ({"study": {"metrics": []}}, "study_spec.metrics"),
    "no bounds": (
        {"params": [{"parameterId": "x", "doubleValueSpec": {}}]},
        "study_spec.parameters[0].double_value_spec.max_value",
    ),
    "min above max": (
        {"params": [{"parameterId": "x", "integerValueSpec": {"minValue": 5, "maxValue": 2}}]},
        "study_spec.parameters[0].integer_value_spec.min_value",
    ),
    "scale on categorical": (
        {
            "params": [
                {"parameterId": "c", "categoricalValueSpec": {"values": ["a"]}, "scaleType": "UNIT_LOG_SCALE"}
            ]
        },
        "study_spec.parameters[0].scale_type",
    ),
    "parallel above max": ({"fields": {"maxTrialCount": 2, "parallelTrialCount": 3}}, "parallel_trial_count"),
    "grid of doubles": (
        {"study": {"algorithm": "GRID_SEARCH"}},
        "study_spec.parameters[0].double_value_spec",
    ),
    "unknown algorithm": ({"study": {"algorithm": "SIMULATED_ANNEALING"}}, "study_spec.algorithm"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(server: ServerProcess, case: str) -> None:
    change, field = BAD_INPUT[case]
    params = change.get("params", [{"parameterId": "x", "doubleValueSpec": {"minValue": 0, "maxValue": 1}}])
    body = _body("pass", params, study=change.get("study", {}), **change.get("fields", {}))
    project = f"tuning-bad-{uuid.uuid4().hex[:6]}"
    response = requests.post(_url(server, project), json=body, timeout=10)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert field in error["message"], error["message"]
    assert requests.get(_url(server, project), timeout=10).json() == {}


def test_kill9_mid_study_resumes_without_losing_or_repeating_a_trial(
    server_factory: type[ServerProcess], tmp_path: Path
) -> None:
    srv = server_factory(None, *CAPACITY)
    srv.start()
    code = RECORDER.replace("time.sleep(0.3)", "time.sleep(1.5)")
    params = [{"parameterId": "x", "doubleValueSpec": {"minValue": 0, "maxValue": 1}}]
    body = _body(
        code,
        params,
        metric="m",
        maxTrialCount=6,
        parallelTrialCount=2,
        spec={"baseOutputDirectory": {"outputUriPrefix": str(tmp_path / "out")}},
    )
    name = _create(srv, "tuning-restart", body)
    deadline = time.monotonic() + WAIT_S
    while len(_get(srv, name).get("trials", [])) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    srv.kill9()
    srv.start()
    job = _wait(srv, name, "JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED")
    assert job["state"] == "JOB_STATE_SUCCEEDED", job
    assert [t["id"] for t in job["trials"]] == ["1", "2", "3", "4", "5", "6"]
    assert all(t["state"] == "SUCCEEDED" for t in job["trials"])
    for trial in job["trials"]:
        runs = (tmp_path / "out" / trial["id"] / "model" / "seen.json").read_text().splitlines()
        assert len(runs) == 1, f"trial {trial['id']} ran {len(runs)} times"


def _cli(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "customjobs.cli.main", "hp-tuning-jobs", *args, "--endpoint", server.url]
    argv += ["--project", "tuning-cli", "--region", LOCATION]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_cli_creates_a_study_and_lists_its_trials_as_csv(server: ServerProcess, tmp_path: Path) -> None:
    params = [{"parameterId": "x", "integerValueSpec": {"minValue": 1, "maxValue": 3}}]
    body = _body(OBJECTIVE, params, study={"algorithm": "GRID_SEARCH"})
    config = tmp_path / "study.yaml"
    config.write_text(yaml.safe_dump({"studySpec": body["studySpec"], "trialJobSpec": body["trialJobSpec"]}))
    created = _cli(server, "create", "--display-name=cli-study", f"--config={config}", "--max-trial-count=3")
    assert created.returncode == 0, created.stderr
    name = created.stdout.strip()
    assert "/hyperparameterTuningJobs/" in name
    _wait(server, name, "JOB_STATE_SUCCEEDED")
    table = _cli(server, "trials", name.rsplit("/", 1)[1], "--format", "csv")
    assert table.returncode == 0, table.stderr
    rows = list(csv.reader(table.stdout.splitlines()))
    assert rows[0] == ["trial", "state", "x", "score", "best"]
    by_x = {row[2]: row for row in rows[1:]}
    assert sorted(by_x) == ["1", "2", "3"]
    assert [row[4] for row in rows[1:]].count("*") == 1 and by_x["3"][4] == "*"  # -(x-3)^2 peaks at 3
    assert float(by_x["1"][3]) == -4.0
    listed = _cli(server, "list")
    assert listed.returncode == 0 and "cli-study" in listed.stdout and "JOB_STATE_SUCCEEDED" in listed.stdout


@pytest.mark.parametrize("rule", ["medianAutomatedStoppingSpec", "decayCurveStoppingSpec"])
def test_stopping_rules_stop_the_replicas_of_losing_trials(server: ServerProcess, rule: str) -> None:
    # Trials 1-3 finish at once with 1.0; later ones report 0.0 for 40 steps unless stopped.
    code = """
import os, time, hypertune
ht = hypertune.HyperTune()
good = int(os.environ["CLOUD_ML_TRIAL_ID"]) <= 3
for step in range(1, 4 if good else 41):
    ht.report_hyperparameter_tuning_metric("score", 1.0 if good else 0.0, global_step=step)
    time.sleep(0 if good else 0.25)
"""
    params = [{"parameterId": "x", "doubleValueSpec": {"minValue": 0, "maxValue": 1}}]
    study = {rule: {}}
    name = _create(
        server, "tuning-stop", _body(code, params, maxTrialCount=5, parallelTrialCount=1, study=study)
    )
    job = _wait(server, name, "JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", timeout_s=60)
    assert job["state"] == "JOB_STATE_SUCCEEDED", job
    trials = job["trials"]
    assert [len(t["measurements"]) for t in trials[:3]] == [3, 3, 3]
    for trial in trials[3:]:
        # Stopped well before its 40 steps; an early-stopped trial keeps what it reported.
        assert trial["state"] == "SUCCEEDED" and len(trial["measurements"]) < 20, trial
        # (proto3 JSON leaves a value of 0 out, as Vertex's answers do)
        assert trial["finalMeasurement"]["metrics"] == [{"metricId": "score"}]
        custom = requests.get(f"{server.url}/v1/{trial['customJob']}", timeout=10).json()
        assert custom["state"] == "JOB_STATE_CANCELLED"


def test_v1beta1_paging_filters_and_two_metrics(server: ServerProcess) -> None:
    code = "import hypertune as h; t = h.HyperTune(); t.report_hyperparameter_tuning_metric('a', 1.0)\n"
    code += "t.report_hyperparameter_tuning_metric('b', 2.0)"
    params = [{"parameterId": "x", "doubleValueSpec": {"minValue": 0, "maxValue": 1}}]
    study = {"metrics": [{"metricId": "a", "goal": "MAXIMIZE"}, {"metricId": "b", "goal": "MINIMIZE"}]}
    project = f"tuning-beta-{uuid.uuid4().hex[:6]}"
    beta = f"{server.url}/v1beta1/projects/{project}/locations/{LOCATION}/hyperparameterTuningJobs"
    names_ = []
    for n in range(3):
        body = _body(code, params, maxTrialCount=2, parallelTrialCount=2, study=study, labels={"n": str(n)})
        response = requests.post(beta, json=body, timeout=10)
        assert response.status_code == 200, response.text
        names_.append(response.json()["name"])
    for name in names_:
        job = _wait(server, name, "JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED")
        assert job["state"] == "JOB_STATE_SUCCEEDED", job
        for trial in job["trials"]:
            assert trial["finalMeasurement"]["metrics"] == [
                {"metricId": "a", "value": 1.0},
                {"metricId": "b", "value": 2.0},
            ]
    first = requests.get(beta, params={"pageSize": 2}, timeout=10).json()
    assert [j["name"] for j in first["hyperparameterTuningJobs"]] == names_[::-1][:2]
    rest = requests.get(beta, params={"pageSize": 2, "pageToken": first["nextPageToken"]}, timeout=10).json()
    assert [j["name"] for j in rest["hyperparameterTuningJobs"]] == [names_[0]]
    assert "nextPageToken" not in rest
    only = requests.get(
        beta, params={"filter": 'labels.n="1" AND state="JOB_STATE_SUCCEEDED"'}, timeout=10
    ).json()
    assert [j["name"] for j in only["hyperparameterTuningJobs"]] == [names_[1]]
    bad = requests.get(beta, params={"filter": "nonsense ="}, timeout=10)
    assert bad.status_code == 400 and bad.json()["error"]["status"] == "INVALID_ARGUMENT"
