"""Web access on a Ray cluster: a shell into a replica on the other node, and the dashboard.

The shell of a Ray replica runs on the replica's node (opened there by its host, carried
to the page by a relay on the server). Where it runs is read from the process tree, not
from our bookkeeping: the shell's ancestors include the raylet of the node that runs it,
and each replica prints its own raylet pid (RAY_RAYLET_PID, as test_cluster_jobs does).
"""

from __future__ import annotations

import json
import re
import sys
import time
import uuid
from pathlib import Path

import requests
from google.cloud import aiplatform_v1 as av1

from e2e.python_packages import job_log
from e2e.vertex import PARENT, job, pool, rest_client, wait_for
from support.ray_cluster import WORKER_IP, RayCluster
from support.server import ServerProcess, wait_processes
from support.terminal import ShellClient, shell_url

RUNNING = {av1.JobState.JOB_STATE_RUNNING}
# Prints its raylet (its node) and waits: a replica to open shells into.
WAITER = ["sh", "-c", "echo raylet=$RAY_RAYLET_PID; exec sleep 600"]


RAYLET = re.compile(r"raylet=(\d+)")


def _raylet_of(server: ServerProcess, name: str, replica: str, timeout_s: float = 60) -> int:
    """The replica's node, as the raylet pid it printed (RAY_RAYLET_PID)."""
    deadline = time.monotonic() + timeout_s
    while not (match := RAYLET.search(job_log(server.url, name, replica))):
        assert time.monotonic() < deadline, f"{replica} printed no raylet pid"
        time.sleep(0.1)
    return int(match.group(1))


def _ancestors(pid: int) -> list[int]:
    chain = []
    while pid > 1:
        stat = Path(f"/proc/{pid}/stat").read_text()
        pid = int(stat[stat.rindex(")") + 2 :].split()[1])
        chain.append(pid)
    return chain


def _running(client: av1.JobServiceClient, spec: av1.CustomJob) -> av1.CustomJob:
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    return wait_for(client, created.name, RUNNING, timeout_s=180)


def test_shell_runs_on_the_replicas_node_with_its_environment_and_ends_on_close(
    server: ServerProcess, ray_cluster: RayCluster
) -> None:
    client = rest_client(server.url)
    markers = {"workerpool0-0": f"m0-{uuid.uuid4().hex[:6]}", "workerpool1-0": f"m1-{uuid.uuid4().hex[:6]}"}
    spec = job(
        "ray-shell",
        pool(WAITER, env={"MARKER": markers["workerpool0-0"]}),
        pool(WAITER, env={"MARKER": markers["workerpool1-0"]}),
        enable_web_access=True,
    )
    running = _running(client, spec)
    job_id = running.name.rsplit("/", 1)[1]
    replicas = list(markers)
    assert set(running.web_access_uris) == set(replicas)
    raylets = {r: _raylet_of(server, running.name, r) for r in replicas}
    ips = ray_cluster.raylet_ips()
    on_worker = [r for r in replicas if ips[raylets[r]] == WORKER_IP]
    assert on_worker, f"SPREAD put no replica on the worker node: {raylets} {ips}"
    replica = on_worker[0]
    shell = ShellClient(shell_url(server.url, job_id, replica, cols=100, rows=30))
    try:
        opened = shell.read_until(f"{replica}$ ")
        # The relay is a Ray driver: none of Ray's own words may reach the user's terminal.
        assert "ray" not in opened.lower() and "Traceback" not in opened, opened
        # Quotes split the names, so the echo of the typed line never matches the output.
        shell.send(b'echo P""ID=$$ MARK""ER=$MARKER; echo SP""EC=$CLUSTER_SPEC; pwd\n')
        shown = shell.read_until(".cwd")
        assert f"MARKER={markers[replica]}" in shown, shown
        task = json.loads(shown.split("SPEC=", 1)[1].splitlines()[0])["task"]
        assert task == {"type": replica.rsplit("-", 1)[0], "index": 0}
        assert shown.rstrip().endswith(f"/attempt-1/{replica}.cwd"), shown
        shell_pid = int(shown.split("PID=", 1)[1].split()[0])
        # The shell is a process of the worker node: its raylet is among its ancestors.
        assert raylets[replica] in _ancestors(shell_pid), (shell_pid, raylets)
        shell.send(b"stty size\n")
        shell.read_until("30 100")
        shell.resize(120, 40)  # SIGWINCH on the relay's terminal, passed on to the node's
        time.sleep(0.5)
        shell.send(b"stty size\n")
        shell.read_until("40 120")
        shell.send(b"sleep 4323 &\n")
        shell.read_until(f"{replica}$ ")
        wait_processes("sleep 4323", True, "the shell's background job never started", 10)
    finally:
        shell.close()
    # Closing the page ends the relay, the node's shell and what it started; never the replica.
    wait_processes("sleep 4323", False, "still running after the shell closed", 15)
    wait_processes("shell_relay", False, "still running after the shell closed", 15)
    time.sleep(1.0)
    assert client.get_custom_job(name=running.name).state == av1.JobState.JOB_STATE_RUNNING
    shell = ShellClient(shell_url(server.url, job_id, replica))
    try:
        shell.read_until(f"{replica}$ ")
        shell.send(b"exit\n")  # the remote shell ends: the page is closed by the server
        assert shell.wait_closed() is not None
    finally:
        shell.close()
    wait_processes("shell_relay", False, "still running after the shell closed", 15)
    client.cancel_custom_job(name=running.name)
    wait_for(client, running.name, timeout_s=60)


# Serves on its own node's address only (from CLUSTER_SPEC): the proxy must go to that node.
DASHBOARD = [
    sys.executable,
    "-c",
    "import http.server, json, os, pathlib\n"
    "spec = json.loads(os.environ['CLUSTER_SPEC'])\n"
    "ip = spec['cluster']['workerpool0'][0].rsplit(':', 1)[0]\n"
    "pathlib.Path('index.html').write_text('dashboard on ' + ip)\n"
    "print('raylet=' + os.environ['RAY_RAYLET_PID'], flush=True)\n"
    "port = int(os.environ['AIP_HTTP_HANDLER_PORT'])\n"
    "http.server.ThreadingHTTPServer((ip, port), http.server.SimpleHTTPRequestHandler).serve_forever()\n",
]


def test_dashboard_of_the_primary_is_proxied_from_its_node(
    server: ServerProcess, ray_cluster: RayCluster
) -> None:
    client = rest_client(server.url)
    spec = job("ray-dash", pool(DASHBOARD), pool(WAITER), enable_dashboard_access=True)
    running = _running(client, spec)
    uri = dict(running.web_access_uris)["workerpool0-0:dashboard"]
    node_ip = ray_cluster.raylet_ips()[_raylet_of(server, running.name, "workerpool0-0")]
    deadline = time.monotonic() + 30
    while True:
        page = requests.get(uri, timeout=10)
        if page.status_code == 200:
            break
        assert page.status_code == 502 and time.monotonic() < deadline, page.text
        time.sleep(0.2)
    assert page.text == f"dashboard on {node_ip}"
    client.cancel_custom_job(name=running.name)
    wait_for(client, running.name, timeout_s=60)
    assert requests.get(uri, timeout=10).status_code == 404


def test_no_shell_into_a_replica_that_has_ended(server: ServerProcess) -> None:
    client = rest_client(server.url)
    spec = job("ray-ended", pool(WAITER), pool(["sh", "-c", "echo done"]), enable_web_access=True)
    running = _running(client, spec)
    job_id = running.name.rsplit("/", 1)[1]
    deadline = time.monotonic() + 30
    while "done" not in job_log(server.url, running.name, "workerpool1-0"):
        assert time.monotonic() < deadline, "workerpool1-0 never ran"
        time.sleep(0.1)
    time.sleep(1.0)  # a scheduler pass or two: its exit is known
    shell = ShellClient(shell_url(server.url, job_id, "workerpool1-0"))
    try:
        shell.wait_closed()
    finally:
        shell.close()
    # Refused by the backend (an error frame), or by the replica's host (words on the terminal).
    said = " ".join(shell.errors) + shell.seen.decode(errors="replace")
    assert "workerpool1-0 is not running" in said, said
    client.cancel_custom_job(name=running.name)
    wait_for(client, running.name, timeout_s=60)
