"""B9: a HyperparameterTuningJob of trivial trials against the same CustomJobs created directly.

The study: N trials (64; 8 with --quick) of a Python one-liner that reports one metric with
cloudml-hypertune, `parallelTrialCount` 8, one DOUBLE parameter, Vertex's default algorithm
(TPE here). The baseline, on the same server in the same run: the same N one-liners as
CustomJobs, 8 clients each creating one and waiting for it to end, so at most 8 run at once
as in the study; both poll every 10 ms. The sampler's own time per trial (Optuna's ask +
tell over a study of N) is measured in this process with the server's own search module.
Target: study wall time <= 1.1 x the CustomJobs' wall time.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.model import BenchResult, Context, Row, Series, verdict
from bench.rest import PARENT, TERMINAL, JobsClient, succeeded
from bench.server import customjobs_server
from bench.stats import Figure

ID = "B9"
TITLE = "tuning study vs the same CustomJobs"
TARGET_RATIO = 1.1
PARALLEL = 8
# Both sides watch their work with GETs this far apart, so polling costs them alike.
POLL_S = 0.01
OBJECTIVE = (
    "import sys, hypertune; x = float(sys.argv[-1].split('=')[1]); "
    "hypertune.HyperTune().report_hyperparameter_tuning_metric('score', -(x - 0.3) ** 2)"
)


def _pool(args: list[str]) -> dict[str, Any]:
    command = [sys.executable, "-c", OBJECTIVE, *args]
    return {
        "machineSpec": {"machineType": "n1-standard-1"},
        "replicaCount": "1",
        "containerSpec": {"imageUri": "local", "command": command},
    }


def _study(trials: int) -> dict[str, Any]:
    return {
        "displayName": "bench-study",
        "maxTrialCount": trials,
        "parallelTrialCount": PARALLEL,
        "studySpec": {
            "metrics": [{"metricId": "score", "goal": "MAXIMIZE"}],
            "parameters": [{"parameterId": "x", "doubleValueSpec": {"minValue": 0, "maxValue": 1}}],
        },
        "trialJobSpec": {"workerPoolSpecs": [_pool([])]},
    }


def _run_study(client: JobsClient, trials: int) -> float:
    start = time.perf_counter()
    response = client.http.post(f"/v1/{PARENT}/hyperparameterTuningJobs", json=_study(trials))
    response.raise_for_status()
    name = response.json()["name"]
    while True:
        job = client.get(name)
        if job["state"] in TERMINAL:
            break
        time.sleep(POLL_S)
    took = time.perf_counter() - start
    if job["state"] != "JOB_STATE_SUCCEEDED" or len(job.get("trials", [])) != trials:
        raise RuntimeError(f"the study ended {job['state']}: {job.get('error', {})}")
    return took


def _run_jobs(url: str, trials: int) -> float:
    clients = [JobsClient(url) for _ in range(PARALLEL)]

    def one(n: int) -> None:
        body = {"displayName": "bench-trial", "jobSpec": {"workerPoolSpecs": [_pool([f"--x={n / trials}"])]}}
        client = clients[n % PARALLEL]
        name = client.create(body)
        while (job := client.get(name))["state"] not in TERMINAL:
            time.sleep(POLL_S)
        succeeded(job)

    start = time.perf_counter()
    with ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(one, range(trials)))
    took = time.perf_counter() - start
    for client in clients:
        client.close()
    return took


def sampler_seconds_per_trial(trials: int) -> float:
    """Optuna's ask + tell per trial over a study of `trials`, through the server's own adapter."""
    from customjobs.resources.tuning.study import Param, Search, Space

    search = Search(Space((Param("x", "double", 0.0, 1.0),), ("maximize",), "ALGORITHM_UNSPECIFIED"), 1, [])
    start = time.perf_counter()
    for n in range(trials):
        suggestion = search.ask()
        search.tell(n, (-((float(suggestion.params["x"]) - 0.3) ** 2),))
    return (time.perf_counter() - start) / trials


def run(ctx: Context) -> BenchResult:
    trials = ctx.size(full=64, quick=8)
    rounds = ctx.size(full=2, quick=1)
    study_s: list[float] = []
    jobs_s: list[float] = []
    with customjobs_server(ctx.workdir / "b9") as server:
        server.start()
        client = JobsClient(server.url)
        try:
            _run_jobs(server.url, PARALLEL)  # warm-up: interpreter caches, the first launches
            for _ in range(rounds):  # interleaved, so drift hits both alike
                jobs_s.append(_run_jobs(server.url, trials))
                study_s.append(_run_study(client, trials))
        finally:
            client.close()
    study, jobs = Figure.of(study_s, "s"), Figure.of(jobs_s, "s")
    ratio = study.median / jobs.median
    sampler_ms = sampler_seconds_per_trial(trials) * 1000
    result = BenchResult()
    result.rows.append(
        Row(
            ID,
            f"study of {trials} trials, {PARALLEL} in parallel (sampler {sampler_ms:.1f} ms/trial)",
            study.text(2),
            f"{trials} CustomJobs {jobs.text(2)}",
            f"{ratio:.2f}×",
            f"≤ {TARGET_RATIO}× the CustomJobs",
            verdict(ctx, ratio <= TARGET_RATIO),
        )
    )
    result.series.append(Series("B9 wall time", "s", {"study": study_s, "CustomJobs": jobs_s}))
    result.notes.append(
        f"{ID}: Optuna TPE ask + tell costs {sampler_ms:.2f} ms per trial over {trials} trials."
    )
    return result
