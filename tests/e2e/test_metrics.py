"""/metrics scraped after real jobs: its counts match what ran, and requests are labelled by route."""

from __future__ import annotations

import re
import time

import requests
from google.cloud import aiplatform_v1 as av1
from prometheus_client.parser import text_string_to_metric_families

from e2e.vertex import PARENT, job, pool, rest_client, wait_for
from support.server import ServerProcess

CREATE_ROUTE = "/{version:ver}/projects/{project:rid}/locations/{location:rid}/customJobs"
SCRAPE_TIMEOUT_S = 10.0


def scrape(server: ServerProcess) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = requests.get(server.url + "/metrics", timeout=10)
    response.raise_for_status()
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_metrics_count_the_jobs_that_ran(server_factory: type[ServerProcess]) -> None:
    server = server_factory()
    server.start()
    client = rest_client(server.url)
    commands = {"ok": ["true"], "fails": ["false"], "cancelled": ["sleep", "30"]}
    plan = ["ok", "ok", "ok", "fails", "fails", "cancelled"]
    names = [
        client.create_custom_job(parent=PARENT, custom_job=job(f"m-{kind}", pool(commands[kind]))).name
        for kind in plan
    ]
    wait_for(client, names[-1], {av1.JobState.JOB_STATE_RUNNING})
    client.cancel_custom_job(name=names[-1])
    for name in names:
        wait_for(client, name)
    requests.get(server.url + "/no/such/path", timeout=10)

    expected = {
        ("customjobs_jobs", (("state", "JOB_STATE_SUCCEEDED"),)): 3.0,
        ("customjobs_jobs", (("state", "JOB_STATE_FAILED"),)): 2.0,
        ("customjobs_jobs", (("state", "JOB_STATE_CANCELLED"),)): 1.0,
        ("customjobs_jobs", (("state", "JOB_STATE_RUNNING"),)): 0.0,
        ("customjobs_queue_length", ()): 0.0,
        ("customjobs_jobs_finished_total", (("state", "JOB_STATE_SUCCEEDED"),)): 3.0,
        ("customjobs_jobs_finished_total", (("state", "JOB_STATE_FAILED"),)): 2.0,
        ("customjobs_jobs_finished_total", (("state", "JOB_STATE_CANCELLED"),)): 1.0,
        ("customjobs_admission_latency_seconds_count", ()): 6.0,
        ("customjobs_scheduler_lease_held", ()): 1.0,
        (
            "customjobs_http_request_duration_seconds_count",
            (("code", "200"), ("method", "POST"), ("route", CREATE_ROUTE)),
        ): 6.0,
        (
            "customjobs_http_request_duration_seconds_count",
            (("code", "404"), ("method", "GET"), ("route", "unmatched")),
        ): 1.0,
    }
    deadline = time.monotonic() + SCRAPE_TIMEOUT_S
    while True:  # the scheduler counts a job's end just after the API can see it
        samples = scrape(server)
        got = {key: samples.get(key) for key in expected}
        if got == expected or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert got == expected
    # Job ids never become labels: routes are templates.
    routes = {dict(labels)["route"] for name, labels in samples if name.startswith("customjobs_http_")}
    assert CREATE_ROUTE + "/{job:rid}" in routes
    assert not any(re.search(r"/\d{5,}", route) for route in routes)
