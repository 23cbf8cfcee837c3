"""Web access end to end: webAccessUris through the official SDK, shells over their WebSocket,
the dashboard proxy, and the events endpoint the console's timeline reads.

The server runs with room for several jobs at once (--cpus/--memory-gb), so a job held
running for a shell never queues the next test's job behind it.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from google.cloud import aiplatform
from google.cloud import aiplatform_v1 as av1
from websockets.exceptions import InvalidStatus

from e2e import sdk_scenarios
from e2e.vertex import PARENT, job, pool, rest_client, wait_for
from support.cleanup import cancel_all
from support.server import ServerProcess, processes_with
from support.terminal import ShellClient, shell_url

ROOMY = ("--cpus", "64", "--memory-gb", "256")
RUNNING = {av1.JobState.JOB_STATE_RUNNING}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("webaccess"), *ROOMY)
    srv.start()
    try:
        yield srv
    finally:
        cancel_all(srv.url, PARENT)
        cancel_all(srv.url, f"projects/{sdk_scenarios.PROJECT}/locations/{sdk_scenarios.LOCATION}")
        srv.stop()


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> av1.JobServiceClient:
    return rest_client(server.url)


def _id(created: av1.CustomJob) -> str:
    return created.name.rsplit("/", 1)[1]


def _running(client: av1.JobServiceClient, spec: av1.CustomJob) -> av1.CustomJob:
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    return wait_for(client, created.name, RUNNING, timeout_s=30)


def _end(client: av1.JobServiceClient, name: str) -> av1.CustomJob:
    client.cancel_custom_job(name=name)
    return wait_for(client, name, timeout_s=30)


def test_web_access_uris_through_the_sdk_while_running_only(
    server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aiplatform.jobs, "_JOB_WAIT_TIME", sdk_scenarios.JOB_WAIT_TIME_S)
    config = aiplatform.initializer.global_config
    saved = dict(vars(config))
    try:
        sdk_scenarios.configure("rest", server.url)
        sdk_job = aiplatform.CustomJob(
            display_name=f"sdk-web-{uuid.uuid4().hex[:6]}",
            worker_pool_specs=[
                {
                    "machine_spec": {"machine_type": "n1-standard-4"},
                    "replica_count": 1,
                    "container_spec": {"image_uri": "local/python", "command": ["sleep", "600"]},
                },
                {
                    "machine_spec": {"machine_type": "n1-standard-4"},
                    "replica_count": 2,
                    "container_spec": {"image_uri": "local/python", "command": ["sleep", "600"]},
                },
            ],
        )
        sdk_job.submit(enable_web_access=True)
        deadline = time.monotonic() + 30
        while not sdk_job.web_access_uris:  # every read is a GET
            assert time.monotonic() < deadline, f"no webAccessUris; state {sdk_job.state.name}"
            time.sleep(0.1)
        uris = sdk_job.web_access_uris
        job_id = sdk_job.resource_name.rsplit("/", 1)[1]
        assert uris == {
            name: f"{server.url}/customjobs/shell/{job_id}/{name}"
            for name in ("workerpool0-0", "workerpool1-0", "workerpool1-1")
        }
        assert sdk_job.state == av1.JobState.JOB_STATE_RUNNING
        sdk_job.cancel()
        with pytest.raises(RuntimeError, match="Job failed with"):
            sdk_job.wait_for_completion()
        assert sdk_job.web_access_uris == {}
    finally:
        vars(config).clear()
        vars(config).update(saved)


def test_no_web_access_uris_without_enable_web_access(client: av1.JobServiceClient) -> None:
    running = _running(client, job("plain", pool(["sleep", "600"])))
    assert dict(running.web_access_uris) == {}
    _end(client, running.name)


def test_shell_has_the_replica_environment_ctrl_c_resize_and_ends_on_close(
    client: av1.JobServiceClient, server: ServerProcess
) -> None:
    marker = f"replica-{uuid.uuid4().hex[:8]}"
    spec = job("shell", pool(["sleep", "600"], env={"MARKER": marker}), enable_web_access=True)
    running = _running(client, spec)
    shell = ShellClient(shell_url(server.url, _id(running), "workerpool0-0", cols=100, rows=30))
    try:
        shell.read_until("workerpool0-0$ ")
        shell.send(b"echo $CLUSTER_SPEC; echo marker=$MARKER\n")
        assert '"workerpool0"' in shell.read_until(f"marker={marker}")
        shell.send(b"stty size; pwd\n")
        assert "30 100" in shell.read_until(".cwd")
        shell.resize(120, 40)
        shell.send(b"stty size\n")
        shell.read_until("40 120")
        shell.send(b"sleep 4321\n")
        deadline = time.monotonic() + 10
        while not processes_with("sleep 4321"):
            assert time.monotonic() < deadline, "the shell's sleep never started"
            time.sleep(0.05)
        shell.send(b"\x03")
        shell.send(b"echo status=$?\n")
        shell.read_until("status=130")
        assert not processes_with("sleep 4321")
        shell.send(b"sleep 4322 &\n")
        shell.read_until("workerpool0-0$ ")
    finally:
        shell.close()
    deadline = time.monotonic() + 10
    while processes_with("sleep 4322"):
        assert time.monotonic() < deadline, "closing the page left the shell's job running"
        time.sleep(0.05)
    time.sleep(0.5)
    assert client.get_custom_job(name=running.name).state == av1.JobState.JOB_STATE_RUNNING
    _end(client, running.name)


def test_shell_refused_without_web_access_and_from_another_site(
    client: av1.JobServiceClient, server: ServerProcess
) -> None:
    running = _running(client, job("no-web", pool(["sleep", "600"])))
    shell = ShellClient(shell_url(server.url, _id(running), "workerpool0-0"))
    assert shell.wait_closed() == 4404
    assert "enableWebAccess" in shell.errors[0]
    with pytest.raises(InvalidStatus) as refused:
        ShellClient(shell_url(server.url, _id(running), "workerpool0-0"), origin="http://evil.example")
    assert refused.value.response.status_code == 403
    page = requests.get(f"{server.url}/customjobs/shell/{_id(running)}/workerpool0-0", timeout=10)
    assert page.status_code == 200 and "xterm" in page.text
    foreign = requests.get(
        f"{server.url}/customjobs/shell/{_id(running)}/workerpool0-0",
        headers={"Host": "rebound.example:80"},
        timeout=10,
    )
    assert foreign.status_code == 403
    _end(client, running.name)


DASHBOARD = [
    sys.executable,
    "-c",
    "import http.server, os, pathlib\n"
    "pathlib.Path('index.html').write_text('dashboard of ' + os.environ['CLOUD_ML_JOB_ID'])\n"
    "port = int(os.environ['AIP_HTTP_HANDLER_PORT'])\n"
    "handler = http.server.SimpleHTTPRequestHandler\n"
    "http.server.ThreadingHTTPServer(('127.0.0.1', port), handler).serve_forever()\n",
]


def test_dashboard_is_proxied_while_the_job_runs(client: av1.JobServiceClient, server: ServerProcess) -> None:
    spec = job("dash", pool(DASHBOARD), pool(["sleep", "600"]), enable_dashboard_access=True)
    running = _running(client, spec)
    job_id = _id(running)
    uris = dict(running.web_access_uris)
    assert uris == {"workerpool0-0:dashboard": f"{server.url}/customjobs/dashboard/{job_id}/"}
    deadline = time.monotonic() + 20
    while True:
        page = requests.get(uris["workerpool0-0:dashboard"], timeout=10)
        if page.status_code == 200:
            break
        assert page.status_code == 502 and time.monotonic() < deadline, page.text
        time.sleep(0.1)
    assert page.text == f"dashboard of {job_id}"
    bare = requests.get(f"{server.url}/customjobs/dashboard/{job_id}", timeout=10, allow_redirects=False)
    assert bare.headers["location"] == f"/customjobs/dashboard/{job_id}/"
    _end(client, running.name)
    assert requests.get(uris["workerpool0-0:dashboard"], timeout=10).status_code == 404


def _events(server: ServerProcess, name: str) -> Any:
    return requests.get(f"{server.url}/customjobs/v1/{name}/events", timeout=10)


def test_events_list_the_state_history(client: av1.JobServiceClient, server: ServerProcess) -> None:
    created = client.create_custom_job(parent=PARENT, custom_job=job("events", pool(["true"])))
    wait_for(client, created.name)
    events = _events(server, created.name).json()["events"]
    states = [e["state"] for e in events]
    assert states[-2:] == ["JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED"]
    assert states[0] in ("JOB_STATE_QUEUED", "JOB_STATE_PENDING")
    assert [e["time"] for e in events] == sorted(e["time"] for e in events)
    assert _events(server, PARENT + "/customJobs/123").status_code == 404
    assert _events(server, created.name.replace("test-project", "other")).status_code == 404


def test_console_is_served_at_the_root(server: ServerProcess) -> None:
    page = requests.get(server.url + "/", timeout=10)
    assert page.status_code == 200 and '<script type="module" src="/console/js/app.js">' in page.text
    module = requests.get(server.url + "/console/js/app.js", timeout=10)
    assert module.status_code == 200 and "javascript" in module.headers["content-type"]
    assert requests.get(server.url + "/console/vendor/xterm/xterm.mjs", timeout=10).status_code == 200
    missing = requests.get(server.url + "/console/nope.js", timeout=10)
    assert missing.status_code == 404
