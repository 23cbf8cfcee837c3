"""The job store goes away and comes back: clients get 503 UNAVAILABLE, the server heals itself.

Google's clients retry UNAVAILABLE (503), never INTERNAL (500). Two real outages:
PostgreSQL (a cluster this test initdb's and SIGKILLs, then restarts on the same data
folder) and SQLite on a small tmpfs that the test fills until ENOSPC. Through each:
every store-backed answer is 503 UNAVAILABLE saying why, /readyz fails, the server log
says so once (not once per request or scheduler pass), nothing half-written is left, and
when the store is back the server answers and schedules again by itself.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from google.api_core import exceptions as core_exceptions
from google.cloud import aiplatform_v1 as av1

from e2e.grpc_helpers import GrpcServerProcess, plaintext_client
from e2e.vertex import PARENT, rest_client, wait_for
from support.own_postgres import OwnPostgres
from support.server import ServerProcess
from support.small_disk import fill, mounted

CREATE_URL = f"/v1/{PARENT}/customJobs"
OUTAGE_LINE = "store unreachable:"
RECOVERY_LINE = "store reachable again after"
# The outage answers must be quick (a refused connection, not a hung one).
FAST_ANSWER_S = 5.0
RECOVERY_TIMEOUT_S = 30.0
REQUESTS_PER_KIND = 8


def create_body(name: str, command: list[str]) -> dict[str, Any]:
    return {
        "displayName": name,
        "labels": {"outage": "test"},  # so a half-written create would leave a label row behind
        "jobSpec": {
            "workerPoolSpecs": [
                {
                    "machineSpec": {"machineType": "n1-standard-4"},
                    "replicaCount": "1",
                    "containerSpec": {"imageUri": "local", "command": command},
                }
            ]
        },
    }


def create(server: ServerProcess, name: str, command: list[str]) -> requests.Response:
    return requests.post(server.url + CREATE_URL, json=create_body(name, command), timeout=30)


def assert_unavailable(response: requests.Response, words: str) -> None:
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == 503 and error["status"] == "UNAVAILABLE", error
    assert words in error["message"] and error["message"].endswith("Retry the request."), error


def timed(fn: Any, *args: Any) -> requests.Response:
    started = time.monotonic()
    response: requests.Response = fn(*args)
    assert time.monotonic() - started < FAST_ANSWER_S, "an outage must be answered at once"
    return response


def poll(fn: Any, until: Any, timeout_s: float = RECOVERY_TIMEOUT_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(requests.ConnectionError):
            result = fn()
            if until(result):
                return result
        assert time.monotonic() < deadline, f"not recovered within {timeout_s}s: {result}"
        time.sleep(0.2)


def log_text(server: ServerProcess) -> str:
    return server.log_path.read_text()


# PostgreSQL ------------------------------------------------------------------------------


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    pg = OwnPostgres()
    try:
        pg.start()
        yield pg
    finally:
        pg.close()


def test_postgres_crash_answers_503_unavailable_and_recovers(
    own_postgres: OwnPostgres, tmp_path: Path
) -> None:
    # A short lease: the outage outlasts it, so the scheduler loses the lease and takes it back.
    server = GrpcServerProcess(tmp_path / "server", "--database", own_postgres.url, "--lease-ttl", "1")
    server.start()
    grpc_client, channel = plaintext_client(server.grpc_port)
    try:
        client = rest_client(server.url)
        first = create(server, "before", ["true"])
        assert first.status_code == 200, first.text
        first_name = first.json()["name"]
        assert wait_for(client, first_name).state == av1.JobState.JOB_STATE_SUCCEEDED
        # Running when the database dies, done while it is down: settled once it is back.
        spanning = create(server, "spans-the-outage", ["sleep", "2"]).json()["name"]
        wait_for(client, spanning, {av1.JobState.JOB_STATE_RUNNING})

        own_postgres.kill9()
        outage_started = len(log_text(server))
        for i in range(REQUESTS_PER_KIND):
            assert_unavailable(
                timed(create, server, f"refused-{i}", ["true"]), "The job store is unreachable"
            )
            assert_unavailable(timed(requests.get, server.url + "/v1/" + first_name), "unreachable")
            assert_unavailable(timed(requests.get, server.url + CREATE_URL), "unreachable")
        with pytest.raises(core_exceptions.ServiceUnavailable, match="The job store is unreachable"):
            grpc_client.get_custom_job(name=first_name, retry=None, timeout=10)
        ready = timed(requests.get, server.url + "/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "database unreachable", ready.text
        assert "unreachable" in ready.json()["detail"]
        time.sleep(3)  # many scheduler passes and lease retries, all failing, none logging

        during = log_text(server)[outage_started:]
        assert log_text(server).count(OUTAGE_LINE) == 1, during
        assert "Traceback" not in during and "failed; retrying" not in during, during
        assert "scheduler lease: no longer held" in during  # once, on the way down

        own_postgres.start()
        back = poll(lambda: requests.get(server.url + "/v1/" + first_name, timeout=10), lambda r: r.ok)
        assert back.json()["state"] == "JOB_STATE_SUCCEEDED"
        assert wait_for(client, spanning).state == av1.JobState.JOB_STATE_SUCCEEDED
        after = create(server, "after", ["true"])
        assert after.status_code == 200, after.text
        assert wait_for(client, after.json()["name"]).state == av1.JobState.JOB_STATE_SUCCEEDED
        assert grpc_client.get_custom_job(name=first_name).state == av1.JobState.JOB_STATE_SUCCEEDED
        names = {j.display_name for j in client.list_custom_jobs(parent=PARENT)}
        assert names == {"before", "spans-the-outage", "after"}  # no refused create was kept
        poll(lambda: requests.get(server.url + "/readyz", timeout=10), lambda r: r.status_code == 200)

        text = log_text(server)
        assert text.count(OUTAGE_LINE) == 1 and text.count(RECOVERY_LINE) == 1, text[outage_started:]
    finally:
        channel.close()
        server.stop()


# SQLite on a full disk -----------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with mounted(tmp_path / "small-disk") as mount_dir:
        yield mount_dir


def stored_rows(db: Path) -> dict[str, int]:
    """What the database file holds of the refused creates: rows, and rows without a job."""
    with contextlib.closing(sqlite3.connect(db)) as conn:  # reads only: nothing to write on a full disk
        refused = "SELECT count(*) FROM custom_jobs WHERE display_name LIKE 'refused-%'"
        return {
            "refused jobs": conn.execute(refused).fetchone()[0],
            "orphan labels": conn.execute(
                "SELECT count(*) FROM job_labels WHERE job_id NOT IN (SELECT id FROM custom_jobs)"
            ).fetchone()[0],
            "orphan events": conn.execute(
                "SELECT count(*) FROM job_events WHERE job_id NOT IN (SELECT id FROM custom_jobs)"
            ).fetchone()[0],
        }


def test_sqlite_disk_full_answers_503_unavailable_and_recovers(
    small_disk: Path, server_factory: type[ServerProcess]
) -> None:
    db = small_disk / "customjobs.db"
    server = server_factory(None, "--database", f"sqlite:///{db}")  # jobs' logs stay on the big disk
    server.start()
    client = rest_client(server.url)
    first = create(server, "before", ["true"])
    assert first.status_code == 200, first.text
    first_name = first.json()["name"]
    assert wait_for(client, first_name).state == av1.JobState.JOB_STATE_SUCCEEDED

    filler = small_disk / "filler"
    fill(filler)
    for i in range(REQUESTS_PER_KIND):
        assert_unavailable(
            timed(create, server, f"refused-{i}", ["true"]), "The job store cannot write: its disk is full"
        )
        # Reads still work on a full disk, and must not count as the end of the outage.
        assert (
            requests.get(server.url + "/v1/" + first_name, timeout=10).json()["state"]
            == "JOB_STATE_SUCCEEDED"
        )
    listed = requests.get(server.url + CREATE_URL, timeout=10).json()
    assert [j["displayName"] for j in listed["customJobs"]] == ["before"]
    assert stored_rows(db) == {"refused jobs": 0, "orphan labels": 0, "orphan events": 0}
    ready = requests.get(server.url + "/readyz", timeout=10)
    assert ready.status_code == 503 and ready.json()["status"] == "database cannot write", ready.text
    assert "disk is full" in ready.json()["detail"]
    text = log_text(server)
    assert text.count(OUTAGE_LINE) == 1 and RECOVERY_LINE not in text, text

    filler.unlink()
    after = poll(lambda: create(server, "after", ["true"]), lambda r: r.status_code == 200)
    assert wait_for(client, after.json()["name"]).state == av1.JobState.JOB_STATE_SUCCEEDED
    poll(lambda: requests.get(server.url + "/readyz", timeout=10), lambda r: r.status_code == 200)
    assert {j.display_name for j in client.list_custom_jobs(parent=PARENT)} == {"before", "after"}
    text = log_text(server)
    assert text.count(OUTAGE_LINE) == 1 and text.count(RECOVERY_LINE) == 1, text
