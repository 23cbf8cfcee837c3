"""Logs, events, web-access shells, dashboards and buckets: checked like the job they belong to.

A principal of another project is refused with the same 403 whether the job exists or not,
and Cloud Logging's entries:list shows it nothing of another project's jobs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
import requests
from google.cloud import aiplatform_v1 as av1
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from e2e.vertex import job, wait_for
from security.clients import pool, rest_client
from support.security import (
    ALICE,
    BOB,
    CAROL,
    PARENT_A,
    PROJECT_A,
    PROJECT_B,
    ROOT,
    UNAUTHENTICATED,
    bearer,
    write_auth_files,
)
from support.server import ServerProcess
from support.terminal import shell_url

MISSING_ID = "1234567890123456789"
LOG_DENIED = (
    "Permission 'logging.logEntries.list' denied on resource "
    f"'//aiplatform.googleapis.com/projects/{PROJECT_A}/locations/us-central1' (or it may not exist)."
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("auth-data")
    srv = ServerProcess(root / "server", *write_auth_files(root / "auth"), "--cpus", "8", "--memory-gb", "32")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def jobs(server: ServerProcess) -> Iterator[dict[str, str]]:
    alice = rest_client(server.url, ALICE)
    said = alice.create_custom_job(
        parent=PARENT_A, custom_job=job("says", pool([sys.executable, "-c", "print('alice-log-line')"]))
    ).name
    shell_spec = job("shell", pool(["sleep", "300"]), enable_web_access=True)
    shell = alice.create_custom_job(parent=PARENT_A, custom_job=shell_spec).name
    wait_for(alice, said)
    wait_for(alice, shell, {av1.JobState.JOB_STATE_RUNNING})
    yield {"said": said, "shell": shell}
    alice.cancel_custom_job(name=shell)
    wait_for(alice, shell)


def _get(server: ServerProcess, path: str, token: str | None) -> requests.Response:
    return requests.get(server.url + path, headers=bearer(token) if token else {}, timeout=30)


def test_job_logs_and_events(server: ServerProcess, jobs: dict[str, str]) -> None:
    name = jobs["said"]
    missing = name.rsplit("/", 1)[0] + "/" + MISSING_ID
    for token in (ALICE, CAROL):  # a user and a viewer of team-a
        assert "alice-log-line" in _get(server, f"/customjobs/v1/{name}/logs", token).text
        assert _get(server, f"/customjobs/v1/{name}/events", token).status_code == 200
    for path in (f"/customjobs/v1/{name}/logs", f"/customjobs/v1/{missing}/logs"):
        refused = _get(server, path, BOB)
        assert (refused.status_code, refused.json()["error"]["message"]) == (403, LOG_DENIED)
        assert _get(server, path, None).json()["error"]["message"] == UNAUTHENTICATED
    events = _get(server, f"/customjobs/v1/{name}/events", BOB)
    assert events.status_code == 403 and "aiplatform.customJobs.get" in events.text


def _entries(server: ServerProcess, token: str, project: str, job_id: str) -> requests.Response:
    body = {"resourceNames": [f"projects/{project}"], "filter": f'resource.labels.job_id="{job_id}"'}
    return requests.post(f"{server.url}/v2/entries:list", json=body, headers=bearer(token), timeout=30)


def test_cloud_logging_entries_across_projects(server: ServerProcess, jobs: dict[str, str]) -> None:
    job_id = jobs["said"].rsplit("/", 1)[1]
    mine = _entries(server, ALICE, PROJECT_A, job_id).json()
    assert "alice-log-line" in [e["textPayload"] for e in mine["entries"]]
    refused = _entries(server, BOB, PROJECT_A, job_id)
    assert refused.status_code == 403 and "logging.logEntries.list" in refused.text
    # Bob asks in his own project for alice's job id: nothing, exactly as for an id that does not exist.
    assert _entries(server, BOB, PROJECT_B, job_id).json() == {}
    assert _entries(server, BOB, PROJECT_B, MISSING_ID).json() == {}
    no_project = requests.post(
        f"{server.url}/v2/entries:list",
        json={"filter": f'resource.labels.job_id="{job_id}"'},
        headers=bearer(BOB),
        timeout=30,
    )
    assert no_project.status_code == 400


def test_shells_and_dashboards_across_projects(server: ServerProcess, jobs: dict[str, str]) -> None:
    job_id = jobs["shell"].rsplit("/", 1)[1]
    page = f"/customjobs/shell/{job_id}/workerpool0-0"
    assert "xterm" in _get(server, page, ALICE).text
    refused = _get(server, page, BOB)
    missing = _get(server, f"/customjobs/shell/{MISSING_ID}/workerpool0-0", BOB)
    assert refused.status_code == missing.status_code == 403
    assert refused.json()["error"]["message"].replace(job_id, "ID") == missing.json()["error"][
        "message"
    ].replace(MISSING_ID, "ID")
    assert _get(server, page, CAROL).status_code == 403  # a viewer may not open a shell
    assert _get(server, page, None).status_code == 401
    dashboard = _get(server, f"/customjobs/dashboard/{job_id}/", BOB)
    assert dashboard.status_code == 403

    url = shell_url(server.url, job_id, "workerpool0-0")
    for token in (BOB, None):
        with pytest.raises(InvalidStatus) as closed:
            connect(url, additional_headers=bearer(token) if token else None, proxy=None)
        assert closed.value.response.status_code == 403
    with connect(url, additional_headers=bearer(ALICE), proxy=None) as ws:
        ws.send(b"echo shell-of-$CLOUD_ML_JOB_ID\n")
        seen = b""
        while f"shell-of-{job_id}".encode() not in seen:
            message = ws.recv(timeout=15)
            assert isinstance(message, bytes), message
            seen += message
    # Browsers cannot set headers on a WebSocket: the token may come as ?access_token=.
    with connect(f"{url}&access_token={ALICE}", proxy=None) as ws:
        ws.send(b"exit\n")


def test_buckets_belong_to_projects(server: ServerProcess) -> None:
    base = f"{server.url}/storage/v1/b"
    made = requests.post(f"{base}?project={PROJECT_A}", json={"name": "alice-bucket"}, headers=bearer(ALICE))
    assert made.status_code == 200, made.text
    upload = f"{server.url}/upload/storage/v1/b/alice-bucket/o?uploadType=media&name=notes.txt"
    assert requests.post(upload, data=b"alice notes", headers=bearer(ALICE)).status_code == 200
    media = f"{base}/alice-bucket/o/notes.txt?alt=media"
    assert requests.get(media, headers=bearer(CAROL)).content == b"alice notes"
    for token, status in ((BOB, 403), (None, 401)):
        headers = bearer(token) if token else {}
        assert requests.get(media, headers=headers).status_code == status
        assert requests.post(upload, data=b"x", headers=headers).status_code == status
        assert requests.get(f"{base}/alice-bucket/o", headers=headers).status_code == status
    denied = requests.get(media, headers=bearer(BOB)).json()["error"]
    assert denied["errors"][0]["reason"] == "forbidden" and "storage.objects.get" in denied["message"]
    assert (
        requests.post(upload, data=b"x", headers=bearer(CAROL)).status_code == 403
    )  # a viewer writes nothing
    listed = requests.get(f"{base}?project={PROJECT_B}", headers=bearer(BOB)).json()
    assert "alice-bucket" not in [b["name"] for b in listed.get("items", [])]
    assert requests.get(f"{base}?project={PROJECT_A}", headers=bearer(BOB)).status_code == 403
    taken = requests.post(f"{base}?project={PROJECT_B}", json={"name": "alice-bucket"}, headers=bearer(BOB))
    assert taken.status_code == 409  # one namespace, as on Cloud Storage
    assert requests.delete(f"{base}/alice-bucket", headers=bearer(ALICE)).status_code == 403  # admins only
    copy = f"{base}/alice-bucket/o/notes.txt/rewriteTo/b/bob-bucket/o/stolen.txt"
    assert requests.post(copy, headers=bearer(BOB)).status_code == 403
    assert requests.get(media, headers=bearer(ROOT)).status_code == 200
