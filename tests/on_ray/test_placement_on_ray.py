"""A gang the cluster cannot place now waits QUEUED with its reason; nothing else waits for it.

Admission counts the cluster's totals, so what makes a gang unplaceable here is what makes
it so on a real shared cluster: another Ray user holds resources customjobs does not see.
The test is that other user: a detached placement group of its own, in its own namespace,
holding most of each node's CPUs. While it holds them the gang is admitted but cannot be
placed; three small jobs start and end meanwhile; once it lets go, the gang runs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from google.cloud import aiplatform_v1 as av1

from e2e.python_packages import job_log
from e2e.vertex import PARENT, job, pool, rest_client, wait_for
from support.ray_cluster import NODE_CPUS, RayCluster, ray_server
from support.server import ServerProcess

OTHER_USER = "someone-else"
HELD = "held-by-someone-else"
# Each node keeps 2 CPUs free: enough for the small jobs, not for a 4-vCPU replica.
HELD_CPUS = NODE_CPUS - 2
QUEUED = "JOB_STATE_QUEUED"


def hold_cpus(cluster: RayCluster) -> None:
    placed = cluster.ask(
        f"ray.util.placement_group([{{'CPU': {HELD_CPUS}}}] * 2, strategy='STRICT_SPREAD', "
        f"name={HELD!r}, lifetime='detached').wait(60)",
        namespace=OTHER_USER,
    )
    assert placed is True


def let_go(cluster: RayCluster) -> None:
    """Remove the held group, if it is still there (a test may have let go already)."""
    cluster.ask(
        "[ray.util.remove_placement_group(ray.util.get_placement_group(v['name'])) "
        f"for v in ray.util.placement_group_table().values() if v['name'] == {HELD!r} "
        "and v['state'] != 'REMOVED'] and None",
        namespace=OTHER_USER,
    )


@pytest.fixture
def held(ray_cluster: RayCluster) -> Iterator[None]:
    hold_cpus(ray_cluster)
    try:
        yield
    finally:
        let_go(ray_cluster)


@pytest.fixture
def patient_server(ray_cluster: RayCluster, tmp_path: Path) -> Iterator[ServerProcess]:
    srv = ray_server(ray_cluster, tmp_path / "server", "--ray-placement-timeout", "600")
    srv.start()
    yield srv
    srv.stop()


def gang(name: str) -> av1.CustomJob:
    command = ["sh", "-c", "echo gang ran on $RANK"]
    return job(name, pool(command), pool(command))  # two n1-standard-4 replicas: 4 vCPUs each


def small(name: str) -> av1.CustomJob:
    spec = job(name, pool(["sh", "-c", f"echo {name} done"]))
    spec.job_spec.worker_pool_specs[0].machine_spec.machine_type = "n1-standard-1"
    return spec


def rest_job(server: ServerProcess, name: str) -> dict[str, Any]:
    answer = requests.get(f"{server.url}/v1/{name}", timeout=30)
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


def wait_placing(server: ServerProcess, name: str, timeout_s: float = 60) -> dict[str, Any]:
    """The job once it waits QUEUED for its placement (admitted: its reason names Ray)."""
    deadline = time.monotonic() + timeout_s
    while True:
        body = rest_job(server, name)
        reason = body.get("customjobsQueue", {}).get("reason", "")
        if body["state"] == QUEUED and "Ray cluster" in reason:
            return body
        assert body["state"] in (QUEUED, "JOB_STATE_PENDING"), body
        assert time.monotonic() < deadline, f"{name} never waited for its placement: {body}"
        time.sleep(0.2)


def group_of(name: str) -> str:
    return f"customjobs-job-{name.rsplit('/', 1)[1]}-attempt-1"


def test_an_unplaceable_gang_waits_queued_with_its_reason_while_three_jobs_run(
    ray_cluster: RayCluster, held: None, patient_server: ServerProcess
) -> None:
    client = rest_client(patient_server.url)
    waiting = client.create_custom_job(parent=PARENT, custom_job=gang("gang"))
    body = wait_placing(patient_server, waiting.name)
    reason = body["customjobsQueue"]["reason"]
    assert reason.startswith("Waiting for the Ray cluster to place the job's 2 replicas (4 CPU"), reason
    assert "no node has the CPUs free that a replica needs at once" in reason
    assert ray_cluster.placement_group_state(group_of(waiting.name)) == "PENDING"

    # The scheduler is not held by the waiting gang: three other jobs start and end.
    others = [client.create_custom_job(parent=PARENT, custom_job=small(f"small-{i}")) for i in range(3)]
    for other in others:
        done = wait_for(client, other.name, timeout_s=120)
        assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error
        assert f"{other.display_name} done" in job_log(patient_server.url, other.name)

    still = rest_job(patient_server, waiting.name)
    assert still["state"] == QUEUED and still["customjobsQueue"]["reason"] == reason
    assert "startTime" not in still

    let_go(ray_cluster)  # the other user's resources come free: the gang is placed and runs
    done = wait_for(client, waiting.name, timeout_s=120)
    assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error
    assert "gang ran on 0" in job_log(patient_server.url, waiting.name, "workerpool0-0")
    assert ray_cluster.placement_group_state(group_of(waiting.name)) == "REMOVED"


def test_cancelling_a_gang_that_waits_for_its_placement_removes_its_placement_group(
    ray_cluster: RayCluster, held: None, patient_server: ServerProcess
) -> None:
    client = rest_client(patient_server.url)
    waiting = client.create_custom_job(parent=PARENT, custom_job=gang("cancelled-gang"))
    wait_placing(patient_server, waiting.name)
    assert ray_cluster.placement_group_state(group_of(waiting.name)) == "PENDING"
    client.cancel_custom_job(name=waiting.name)
    done = wait_for(client, waiting.name, timeout_s=60)
    assert done.state == av1.JobState.JOB_STATE_CANCELLED
    assert ray_cluster.placement_group_state(group_of(waiting.name)) == "REMOVED"


def test_a_gang_that_waits_past_its_max_wait_duration_fails_saying_what_it_waited_for(
    ray_cluster: RayCluster, held: None, patient_server: ServerProcess
) -> None:
    client = rest_client(patient_server.url)
    spec = gang("impatient-gang")
    spec.job_spec.scheduling = av1.Scheduling(max_wait_duration={"seconds": 5})
    waiting = client.create_custom_job(parent=PARENT, custom_job=spec)
    done = wait_for(client, waiting.name, timeout_s=60)
    assert done.state == av1.JobState.JOB_STATE_FAILED
    assert done.error.code == 8  # RESOURCE_EXHAUSTED, as a job that waited too long in the queue
    assert "maxWaitDuration of 5s" in done.error.message
    assert "no node has the CPUs free" in done.error.message
    assert ray_cluster.placement_group_state(group_of(waiting.name)) == "REMOVED"
