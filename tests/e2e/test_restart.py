"""kill -9 of the server loses nothing: jobs, states and log lines survive, replicas are re-attached."""

from __future__ import annotations

import os
import random
import signal
import sys
import time
from pathlib import Path

import requests
from google.cloud import aiplatform_v1 as av1

from e2e.vertex import PARENT, job, pool, rest_client, wait_for
from support.server import ServerProcess, processes_with

COUNTER = (
    "import sys, time\nfor i in range({n}):\n    print(f'line {{i}}', flush=True)\n    time.sleep({pause})\n"
)


def log_lines(server: ServerProcess, name: str, replica: str = "workerpool0-0") -> list[str]:
    response = requests.get(
        f"{server.url}/customjobs/v1/{name}/logs", params={"replica": replica}, timeout=30
    )
    response.raise_for_status()
    return response.text.splitlines()


def test_running_job_survives_kill9_and_keeps_every_log_line(server_factory: type[ServerProcess]) -> None:
    first = server_factory()
    first.start()
    client = rest_client(first.url)
    script = COUNTER.format(n=60, pause=0.05)
    created = client.create_custom_job(
        parent=PARENT, custom_job=job("survivor", pool([sys.executable, "-c", script]))
    )
    wait_for(client, created.name, {av1.JobState.JOB_STATE_RUNNING})
    time.sleep(0.5)
    first.kill9()
    time.sleep(1.0)  # the replica keeps writing while no server runs

    second = server_factory(first.data_dir)
    second.start()
    client = rest_client(second.url)
    done = wait_for(client, created.name, timeout_s=30)
    assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error
    assert log_lines(second, created.name) == [f"line {i}" for i in range(60)]
    assert client.get_custom_job(name=created.name).start_time == done.start_time


def test_job_that_ends_while_the_server_is_down_gets_its_true_end(
    server_factory: type[ServerProcess],
) -> None:
    first = server_factory()
    first.start()
    client = rest_client(first.url)
    script = "import sys, time; time.sleep(1.0); print('bye', flush=True); sys.exit(5)"
    spec = job("ends-offline", pool(["sleep", "600"]), pool([sys.executable, "-c", script]))
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    wait_for(client, created.name, {av1.JobState.JOB_STATE_RUNNING})
    first.kill9()
    time.sleep(2.0)

    second = server_factory(first.data_dir)
    second.start()
    done = wait_for(rest_client(second.url), created.name, timeout_s=30)
    assert done.state == av1.JobState.JOB_STATE_FAILED
    assert "The replica workerpool1-0 exited with a non-zero status of 5." in done.error.message
    assert "bye" in done.error.message


def test_replica_that_vanished_fails_the_job_saying_why(server_factory: type[ServerProcess]) -> None:
    first = server_factory()
    first.start()
    client = rest_client(first.url)
    marker = f"{random.randint(100000, 999999)}.25"
    created = client.create_custom_job(parent=PARENT, custom_job=job("vanishes", pool(["sleep", marker])))
    wait_for(client, created.name, {av1.JobState.JOB_STATE_RUNNING})
    deadline = time.monotonic() + 10
    while not processes_with(f"sleep {marker}") and time.monotonic() < deadline:
        time.sleep(0.05)
    first.kill9()
    # Kill the replica's whole process group, wrapper included: it leaves no exit status behind.
    for pid in processes_with(f"sleep {marker}"):
        os.killpg(os.getpgid(pid), signal.SIGKILL)

    second = server_factory(first.data_dir)
    second.start()
    done = wait_for(rest_client(second.url), created.name, timeout_s=30)
    assert done.state == av1.JobState.JOB_STATE_FAILED
    assert done.error.code == 13
    assert "workerpool0-0" in done.error.message and "left no exit status" in done.error.message


def test_acknowledged_create_survives_immediate_kill9(
    server_factory: type[ServerProcess], tmp_path: Path
) -> None:
    first = server_factory()
    first.start()
    client = rest_client(first.url)
    names = [
        client.create_custom_job(parent=PARENT, custom_job=job(f"ack-{i}", pool(["true"]))).name
        for i in range(20)
    ]
    first.kill9()
    second = server_factory(first.data_dir)
    second.start()
    client = rest_client(second.url)
    for name in names:
        assert wait_for(client, name).state == av1.JobState.JOB_STATE_SUCCEEDED
