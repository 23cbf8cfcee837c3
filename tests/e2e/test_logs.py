"""Following a job's logs over HTTP: from creation to the end, no gap, no duplicate."""

from __future__ import annotations

import sys

import pytest
import requests
from google.cloud import aiplatform_v1 as av1

from e2e.vertex import PARENT, job, pool, rest_client, wait_for
from support.server import ServerProcess

SCRIPT = "import time\nfor i in range({n}):\n    print('{tag}', i, flush=True)\n    time.sleep({pause})\n"


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> av1.JobServiceClient:
    return rest_client(server.url)


def logs_url(server: ServerProcess, name: str) -> str:
    return f"{server.url}/customjobs/v1/{name}/logs"


def test_follow_streams_every_line_exactly_once(server: ServerProcess, client: av1.JobServiceClient) -> None:
    script = SCRIPT.format(n=150, tag="step", pause=0.01)
    created = client.create_custom_job(
        parent=PARENT, custom_job=job("follow", pool([sys.executable, "-c", script]))
    )
    with requests.get(
        logs_url(server, created.name),
        params={"replica": "workerpool0-0", "follow": "true"},
        stream=True,
        timeout=60,
    ) as response:
        assert response.status_code == 200
        lines = [line.decode() for line in response.iter_lines()]
    assert lines == [f"step {i}" for i in range(150)]
    assert client.get_custom_job(name=created.name).state == av1.JobState.JOB_STATE_SUCCEEDED


def test_logs_of_every_replica_after_the_end(server: ServerProcess, client: av1.JobServiceClient) -> None:
    primary = SCRIPT.format(n=3, tag="primary", pause=0.3)
    worker = "print('worker ready', flush=True)\nimport time\ntime.sleep(60)"
    spec = job(
        "many", pool([sys.executable, "-c", primary]), pool([sys.executable, "-c", worker], replicas=2)
    )
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    wait_for(client, created.name)
    text = requests.get(logs_url(server, created.name), timeout=30).text
    assert text.splitlines() == [
        "[workerpool0-0] primary 0",
        "[workerpool0-0] primary 1",
        "[workerpool0-0] primary 2",
        "[workerpool1-0] worker ready",
        "[workerpool1-1] worker ready",
    ]
    only = requests.get(logs_url(server, created.name), params={"replica": "workerpool1-1"}, timeout=30)
    assert only.text == "worker ready\n"


def test_unterminated_last_line_and_stderr_are_kept(
    server: ServerProcess, client: av1.JobServiceClient
) -> None:
    script = (
        "import sys; print('out'); sys.stdout.flush(); sys.stderr.write('err\\n'); sys.stderr.flush();"
        " print('tail', end='')"
    )
    created = client.create_custom_job(
        parent=PARENT, custom_job=job("partial", pool([sys.executable, "-c", script]))
    )
    wait_for(client, created.name)
    text = requests.get(logs_url(server, created.name), params={"replica": "workerpool0-0"}, timeout=30).text
    assert text == "out\nerr\ntail\n"


def test_logs_of_unknown_job_is_404(server: ServerProcess) -> None:
    response = requests.get(logs_url(server, f"{PARENT}/customJobs/1234567890123456789"))
    assert response.status_code == 404 and response.json()["error"]["status"] == "NOT_FOUND"
    bad = requests.get(logs_url(server, f"{PARENT}/customJobs/1234567890123456789"), params={"replica": "x"})
    assert bad.status_code in (400, 404)
