"""What an operator relies on: /readyz, SIGTERM draining, `customjobs db upgrade`, JSON logs."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import requests
from google.cloud import aiplatform_v1 as av1

from customjobs.store.sql.revisions import head_revision
from e2e.vertex import PARENT, job, pool, rest_client, wait_for
from support.server import ServerProcess, processes_with

CREATE_URL = "/v1/" + PARENT + "/customJobs"
DRAIN_GRACE_S = 3.0


def create_body(name: str, command: list[str]) -> dict[str, object]:
    return {
        "displayName": name,
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


def lease_row(data_dir: Path) -> tuple[str, int]:
    with sqlite3.connect(data_dir / "customjobs.db") as conn:
        holder, expires_us = conn.execute("SELECT holder, expires_us FROM leases").fetchone()
    return str(holder), int(expires_us)


def test_readyz_reports_schema_and_lease(server: ServerProcess) -> None:
    response = requests.get(server.url + "/readyz", timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["schemaRevision"] == head_revision()
    assert body["schedulerLease"] is True
    assert requests.get(server.url + "/healthz", timeout=10).json() == {"status": "ok"}


def test_sigterm_drains_releases_the_lease_and_leaves_replicas_running(
    server_factory: type[ServerProcess],
) -> None:
    first = server_factory(None, "--drain-grace", str(DRAIN_GRACE_S))
    first.start()
    client = rest_client(first.url)
    marker = f"{random.randint(100000, 999999)}.5"
    created = client.create_custom_job(parent=PARENT, custom_job=job("outlives", pool(["sleep", marker])))
    wait_for(client, created.name, {av1.JobState.JOB_STATE_RUNNING})
    assert first.proc is not None

    first.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    refused = requests.post(first.url + CREATE_URL, json=create_body("late", ["true"]), timeout=10)
    assert refused.status_code == 503
    assert refused.json()["error"]["status"] == "UNAVAILABLE"
    ready = requests.get(first.url + "/readyz", timeout=10)
    assert ready.status_code == 503 and ready.json()["status"] == "draining"
    assert client.get_custom_job(name=created.name).state == av1.JobState.JOB_STATE_RUNNING
    assert lease_row(first.data_dir)[1] == 0  # released: a peer need not wait for expiry

    first.proc.wait(timeout=DRAIN_GRACE_S + 10)
    assert processes_with(f"sleep {marker}"), "the replica must outlive its server"

    second = server_factory(first.data_dir)
    second.start()
    client = rest_client(second.url)
    assert client.get_custom_job(name=created.name).state == av1.JobState.JOB_STATE_RUNNING
    client.cancel_custom_job(name=created.name)
    assert wait_for(client, created.name, timeout_s=30).state == av1.JobState.JOB_STATE_CANCELLED
    assert not processes_with(f"sleep {marker}")


def test_db_upgrade_migrates_once(tmp_path: Path) -> None:
    def upgrade() -> str:
        argv = [sys.executable, "-m", "customjobs.cli.main", "db", "upgrade", "--data-dir", str(tmp_path)]
        return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60).stdout

    assert upgrade().strip() == f"database upgraded from empty to {head_revision()}"
    assert upgrade().strip() == f"database already at {head_revision()}"


def test_json_logs_name_the_job_on_every_job_line(server_factory: type[ServerProcess]) -> None:
    server = server_factory(None, "--log-format", "json")
    server.start()
    client = rest_client(server.url)
    created = client.create_custom_job(parent=PARENT, custom_job=job("logged", pool(["false"])))
    wait_for(client, created.name)
    server.stop()

    entries = [json.loads(line) for line in server.log_path.read_text().splitlines() if line.startswith("{")]
    job_id = created.name.rsplit("/", 1)[1]
    about_job = [e for e in entries if f"job {job_id}" in e["message"]]
    assert len(about_job) >= 4  # created, PENDING -> RUNNING, ending, RUNNING -> FAILED
    for entry in about_job:
        assert entry["job"] == created.name, entry
        assert {"time", "level", "logger", "message"} <= entry.keys()
    assert any(e.get("attempt") == 1 for e in about_job)
