"""The node agents (execution/backends/ray/agent.py): warm before the first job, and what
their death means. Agents and what they host are read from Ray itself, by a driver of the
test's own (RayCluster.ask), not from the server's bookkeeping."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from google.cloud import aiplatform_v1 as av1

from e2e.vertex import PARENT, job, pool, rest_client, wait_for
from support.ray_cluster import RayCluster, ray_server
from support.server import ServerProcess, processes_with

pytestmark = pytest.mark.ray

AGENTS = "[n for n in ray.util.list_named_actors() if n.startswith('customjobs-agent-')]"
# The keeper sees its agent gone within 0.5 s, then gives its group 2 s before SIGKILL.
ORPHAN_BOUND_S = 15


def test_a_server_starts_an_agent_on_every_node_before_any_job_and_a_dead_one_is_replaced(
    server: ServerProcess, ray_cluster: RayCluster, tmp_path: Path
) -> None:
    ray_cluster.ask(f"[ray.kill(ray.get_actor(n), no_restart=True) for n in {AGENTS}]")
    assert ray_cluster.ask(AGENTS) == []
    nodes = ray_cluster.ask("sorted(n['NodeID'][:16] for n in ray.nodes() if n['Alive'])")
    fresh = ray_server(ray_cluster, tmp_path / "server")
    fresh.start()
    try:
        deadline = time.monotonic() + 60
        while ray_cluster.ask(f"sorted(n.removeprefix('customjobs-agent-') for n in {AGENTS})") != nodes:
            assert time.monotonic() < deadline, "no agent on every node"
            time.sleep(0.5)
    finally:
        fresh.stop()
    # The module's server held handles on the agents killed above: its next gang, on both
    # nodes, gets the new ones.
    client = rest_client(server.url)
    again = client.create_custom_job(parent=PARENT, custom_job=job("after", pool(["true"]), pool(["true"])))
    done = wait_for(client, again.name, timeout_s=60)
    assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error
    assert "a customjobs agent of its nodes had died; asking new ones" in server.log_path.read_text()


def test_a_killed_agent_loses_its_replicas_naming_their_node_and_the_next_job_gets_a_new_one(
    server: ServerProcess, ray_cluster: RayCluster
) -> None:
    marker = f"{uuid.uuid4().int % 10**6}.25"
    client = rest_client(server.url)
    created = client.create_custom_job(parent=PARENT, custom_job=job("orphan", pool(["sleep", marker])))
    wait_for(client, created.name, {av1.JobState.JOB_STATE_RUNNING}, timeout_s=60)
    deadline = time.monotonic() + 30
    while not processes_with(f"sleep {marker}"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    key = f"customjobs-job-{created.name.rsplit('/', 1)[1]}-attempt-1-workerpool0-0"
    killed = ray_cluster.ask(
        f"[ray.kill(ray.get_actor(n), no_restart=True) or n for n in {AGENTS} "
        f"if {key!r} in ray.get(ray.get_actor(n).keys.remote())]"
    )
    assert isinstance(killed, list) and len(killed) == 1

    failed = wait_for(client, created.name, timeout_s=60)
    assert failed.state == av1.JobState.JOB_STATE_FAILED
    assert failed.error.code == 13
    assert "workerpool0-0" in failed.error.message
    assert "its customjobs agent on node" in failed.error.message and "died" in failed.error.message
    # The replica went with its agent, though its node lives on.
    deadline = time.monotonic() + ORPHAN_BOUND_S
    while processes_with(f"sleep {marker}"):
        assert time.monotonic() < deadline, "the replica outlived its agent"
        time.sleep(0.2)

    # Both nodes run the next gang: the dead agent's node got a new one.
    again = client.create_custom_job(parent=PARENT, custom_job=job("after", pool(["true"]), pool(["true"])))
    done = wait_for(client, again.name, timeout_s=60)
    assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error
    assert len(ray_cluster.ask(AGENTS)) == 2  # type: ignore[arg-type]
