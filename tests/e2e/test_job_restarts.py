"""Vertex's restart rules: restartJobOnWorkerRestart, disableRetries, transient exit codes."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
import requests
from google.cloud import aiplatform_v1 as av1

from e2e.vertex import PARENT, job, pool, rest_client, wait_for
from support.server import ServerProcess

# Fails with CODE the first time (no marker yet), succeeds on every later attempt.
FLAKY = """
import pathlib, sys
marker = pathlib.Path(sys.argv[1])
if not marker.exists():
    marker.write_text("failed once")
    print("first attempt: failing", flush=True)
    sys.exit(int(sys.argv[2]))
print("later attempt: fine", flush=True)
"""


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> av1.JobServiceClient:
    return rest_client(server.url)


def history(server: ServerProcess, name: str) -> list[tuple[str, str | None]]:
    """The job's state history, read from the server's own SQLite file."""
    job_id = int(name.rsplit("/", 1)[1])
    with sqlite3.connect(server.data_dir / "customjobs.db") as db:
        rows = db.execute("SELECT state, message FROM job_events WHERE job_id = ? ORDER BY seq", (job_id,))
        return [(state, message) for state, message in rows]


def states(server: ServerProcess, name: str) -> list[str]:
    return [state.removeprefix("JOB_STATE_") for state, _ in history(server, name)]


def flaky(marker: Path, code: int) -> list[str]:
    return [sys.executable, "-c", FLAKY, str(marker), str(code)]


def test_restart_job_on_worker_restart_reruns_the_gang(
    server: ServerProcess, client: av1.JobServiceClient, tmp_path: Path
) -> None:
    spec = job(
        "gang-restart",
        pool([sys.executable, "-c", "import time; time.sleep(1.5)"]),
        pool(flaky(tmp_path / "marker", 3)),
        scheduling=av1.Scheduling(restart_job_on_worker_restart=True),
    )
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    done = wait_for(client, created.name)
    assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error
    assert states(server, created.name) == ["PENDING", "RUNNING", "PENDING", "RUNNING", "SUCCEEDED"]
    restart_message = history(server, created.name)[2][1] or ""
    assert "attempt 2" in restart_message and "restartJobOnWorkerRestart" in restart_message
    # startTime is the first RUNNING, kept across the restart.
    job_id = int(created.name.rsplit("/", 1)[1])
    with sqlite3.connect(server.data_dir / "customjobs.db") as db:
        (first_running,) = db.execute(
            "SELECT MIN(time_us) FROM job_events WHERE job_id = ? AND state = 'JOB_STATE_RUNNING'", (job_id,)
        ).fetchone()
    assert int(done.start_time.timestamp() * 1_000_000) == first_running
    logs = requests.get(
        f"{server.url}/customjobs/v1/{created.name}/logs", params={"replica": "workerpool1-0"}
    )
    assert logs.text.splitlines() == [
        "first attempt: failing",
        f"customjobs: attempt 2 of job {job_id} (the job was restarted)",
        "later attempt: fine",
    ]


def test_disable_retries_turns_restarts_off(
    server: ServerProcess, client: av1.JobServiceClient, tmp_path: Path
) -> None:
    spec = job(
        "no-retries",
        pool(["sleep", "30"]),
        pool(flaky(tmp_path / "marker", 134)),
        scheduling=av1.Scheduling(restart_job_on_worker_restart=True, disable_retries=True),
    )
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    done = wait_for(client, created.name)
    assert done.state == av1.JobState.JOB_STATE_FAILED
    assert "workerpool1-0 exited with a non-zero status of 134" in done.error.message
    assert states(server, created.name) == ["PENDING", "RUNNING", "FAILED"]


def test_transient_exit_status_is_retried_without_any_flag(
    server: ServerProcess, client: av1.JobServiceClient, tmp_path: Path
) -> None:
    created = client.create_custom_job(
        parent=PARENT, custom_job=job("segv-once", pool(flaky(tmp_path / "m", 139)))
    )
    done = wait_for(client, created.name)
    assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error
    assert states(server, created.name) == ["PENDING", "RUNNING", "PENDING", "RUNNING", "SUCCEEDED"]
    assert "transient status 139" in (history(server, created.name)[2][1] or "")


def test_transient_failures_stop_after_three_retries(
    server: ServerProcess, client: av1.JobServiceClient
) -> None:
    created = client.create_custom_job(
        parent=PARENT, custom_job=job("always-abort", pool(["sh", "-c", "exit 134"]))
    )
    done = wait_for(client, created.name)
    assert done.state == av1.JobState.JOB_STATE_FAILED
    assert "exited with a non-zero status of 134" in done.error.message
    # One first attempt and three retries, then the failure stands.
    assert states(server, created.name) == ["PENDING", "RUNNING"] * 4 + ["FAILED"]


def test_ordinary_failure_is_not_retried(server: ServerProcess, client: av1.JobServiceClient) -> None:
    created = client.create_custom_job(
        parent=PARENT, custom_job=job("plain-fail", pool(["sh", "-c", "exit 2"]))
    )
    assert wait_for(client, created.name).state == av1.JobState.JOB_STATE_FAILED
    assert states(server, created.name) == ["PENDING", "RUNNING", "FAILED"]
