"""What only a cluster has: replicas on two nodes, training across them, nodes that die.

Where a replica ran is read from Ray itself, never from our bookkeeping: every Ray worker
process carries RAY_RAYLET_PID, the pid of its node's raylet, and the replica inherits it;
the test maps that pid to the node address on the raylet's own command line.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from google.cloud import aiplatform_v1 as av1

from e2e.python_packages import job_log
from e2e.vertex import PARENT, job, pool, rest_client, wait_for
from support.ray_cluster import WORKER_IP, RayCluster, ray_server
from support.server import ServerProcess, free_port, processes_with

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# A dead node is noticed within ~2 s (health checks every 0.5 s, 3 misses); the rest is
# the scheduler's tick and stopping the survivors.
NODE_LOSS_BOUND_S = 30
DDP_STEPS = 60
DDP_MAX_FINAL_LOSS = 0.05
RAYLET = re.compile(r"raylet=(\d+)")


def raylets_of(server: ServerProcess, name: str, replicas: list[str]) -> dict[str, int]:
    """Each replica's node, as the raylet pid it printed (RAY_RAYLET_PID)."""
    found = {}
    for replica in replicas:
        match = RAYLET.search(job_log(server.url, name, replica))
        assert match, f"{replica} printed no raylet pid"
        found[replica] = int(match.group(1))
    return found


def wait_for_lines(
    server: ServerProcess, name: str, replicas: list[str], text: str, timeout_s: float = 60
) -> None:
    deadline = time.monotonic() + timeout_s
    while not all(text in job_log(server.url, name, r) for r in replicas):
        assert time.monotonic() < deadline, f"{name}: {text!r} not in every log"
        time.sleep(0.1)


def test_one_primary_and_two_workers_run_on_both_nodes_at_real_addresses(
    server: ServerProcess, ray_cluster: RayCluster, tmp_path: Path
) -> None:
    script = (
        "import json, os, pathlib, time\n"
        "spec = json.loads(os.environ['CLUSTER_SPEC'])\n"
        "me = spec['cluster'][spec['task']['type']][spec['task']['index']]\n"
        "env = os.environ\n"
        "print(f\"raylet={env['RAY_RAYLET_PID']} me={me} master={env['MASTER_ADDR']}\", flush=True)\n"
        f"out = pathlib.Path({str(tmp_path)!r})\n"
        "(out / f\"{spec['task']['type']}-{spec['task']['index']}\").touch()\n"
        "while len(list(out.iterdir())) < 3: time.sleep(0.05)\n"
    )
    command = [sys.executable, "-c", script]
    client = rest_client(server.url)
    created = client.create_custom_job(
        parent=PARENT, custom_job=job("spread", pool(command), pool(command, 2))
    )
    done = wait_for(client, created.name, timeout_s=120)
    assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error

    replicas = ["workerpool0-0", "workerpool1-0", "workerpool1-1"]
    raylets = raylets_of(server, done.name, replicas)
    node_of = ray_cluster.raylet_ips()
    nodes = {replica: node_of[pid] for replica, pid in raylets.items()}
    assert len(set(nodes.values())) == 2, nodes  # both nodes of the cluster ran replicas
    for replica in replicas:
        log = job_log(server.url, done.name, replica)
        me = re.search(r"me=(\S+):(\d+)", log)
        assert me and me.group(1) == nodes[replica], log  # its address is its node's
        assert f"master={nodes['workerpool0-0']}" in log


def test_pytorch_ddp_trains_across_two_nodes(
    server: ServerProcess, ray_cluster: RayCluster, tmp_path: Path
) -> None:
    torch = pytest.importorskip("torch")
    train = [sys.executable, "-u", str(EXAMPLES / "pytorch_ddp" / "train.py"), "--steps", str(DDP_STEPS)]
    # The replica prints its node (RAY_RAYLET_PID) before the example starts.
    command = ["sh", "-c", 'echo "raylet=$RAY_RAYLET_PID"; exec "$@"', "sh", *train]
    spec = job(
        "ddp-ray", pool(command), pool(command, 2),
        base_output_directory=av1.GcsDestination(output_uri_prefix=f"file://{tmp_path}/out"),
    )  # fmt: skip
    client = rest_client(server.url)
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    done = wait_for(client, created.name, timeout_s=240)
    assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error

    replicas = ["workerpool0-0", "workerpool1-0", "workerpool1-1"]
    node_of = ray_cluster.raylet_ips()
    assert len({node_of[pid] for pid in raylets_of(server, done.name, replicas).values()}) == 2
    log = job_log(server.url, done.name)
    final = re.search(r"final loss ([\d.]+)", log)
    assert final and float(final.group(1)) < DDP_MAX_FINAL_LOSS, log
    assert "rank 2/3: joining" in job_log(server.url, done.name, "workerpool1-1")
    state = torch.load(tmp_path / "out" / "model" / "model.pt", weights_only=True)
    torch.nn.Linear(8, 1).load_state_dict(state)
    loaded = importlib.util.spec_from_file_location("ddp_train", EXAMPLES / "pytorch_ddp" / "train.py")
    assert loaded is not None


def test_a_job_larger_than_any_node_runs_clamped_in_lenient_mode(server: ServerProcess) -> None:
    client = rest_client(server.url)
    spec = job("big", pool(["sh", "-c", "echo big"]))
    spec.job_spec.worker_pool_specs[0].machine_spec.machine_type = "n1-standard-16"  # 16 vCPUs; nodes have 8
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    assert wait_for(client, created.name, timeout_s=60).state == av1.JobState.JOB_STATE_SUCCEEDED


def test_strict_capacity_fails_a_replica_that_fits_no_node(ray_cluster: RayCluster, tmp_path: Path) -> None:
    strict = ray_server(ray_cluster, tmp_path / "strict", "--strict-capacity")
    strict.start()
    try:
        client = rest_client(strict.url)
        spec = job("too-big", pool(["true"]))
        spec.job_spec.worker_pool_specs[0].machine_spec.machine_type = "n1-standard-16"
        created = client.create_custom_job(parent=PARENT, custom_job=spec)
        done = wait_for(client, created.name, timeout_s=60)
        assert done.state == av1.JobState.JOB_STATE_FAILED
        assert "more than any node of the Ray cluster has" in done.error.message
    finally:
        strict.stop()


def test_a_killed_server_reattaches_to_replicas_on_the_cluster(
    ray_cluster: RayCluster, tmp_path: Path
) -> None:
    srv = ray_server(ray_cluster, tmp_path / "server")
    srv.start()
    try:
        client = rest_client(srv.url)
        script = "import time\nfor i in range(40):\n    print(f'tick {i}', flush=True)\n    time.sleep(0.1)\n"
        command = [sys.executable, "-c", script]
        created = client.create_custom_job(
            parent=PARENT, custom_job=job("survivor", pool(command), pool(command))
        )
        wait_for(client, created.name, {av1.JobState.JOB_STATE_RUNNING})
        wait_for_lines(srv, created.name, ["workerpool0-0"], "tick 3")
        srv.kill9()
        time.sleep(2.0)  # lines are written on the nodes while no server runs
        srv.start()
        done = wait_for(rest_client(srv.url), created.name, timeout_s=60)
        assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error
        for replica in ("workerpool0-0", "workerpool1-0"):
            assert job_log(srv.url, done.name, replica).splitlines() == [f"tick {i}" for i in range(40)]
    finally:
        srv.stop()


def test_killing_the_worker_node_fails_a_job_naming_it_and_restarts_one_that_asks(
    server: ServerProcess, ray_cluster: RayCluster, tmp_path: Path
) -> None:
    marker = f"{uuid.uuid4().int % 10**6}.75"
    plain = ["sh", "-c", f'echo "raylet=$RAY_RAYLET_PID"; sleep {marker}']
    # Attempt 1 leaves a file per rank and sleeps; attempt 2 finds it and ends at once.
    again = ["sh", "-c", f'echo "raylet=$RAY_RAYLET_PID"; f={tmp_path}/rank-$RANK; '
             f'if [ -e $f ]; then echo "second attempt"; exit 0; fi; touch $f; sleep {marker}']  # fmt: skip
    client = rest_client(server.url)
    doomed_spec = job("doomed", pool(plain), pool(plain))
    resilient_spec = job(
        "resilient", pool(again), pool(again), scheduling=av1.Scheduling(restart_job_on_worker_restart=True)
    )
    # Small replicas: the restarted gang fits the surviving node at once (one that could not
    # would wait QUEUED for its placement: test_placement_on_ray.py).
    for spec in (doomed_spec, resilient_spec):
        for worker_pool in spec.job_spec.worker_pool_specs:
            worker_pool.machine_spec.machine_type = "n1-standard-1"
    doomed = client.create_custom_job(parent=PARENT, custom_job=doomed_spec)
    resilient = client.create_custom_job(parent=PARENT, custom_job=resilient_spec)
    replicas = ["workerpool0-0", "workerpool1-0"]
    worker_raylet = ray_cluster.raylet_pid(WORKER_IP)
    for created in (doomed, resilient):
        wait_for(client, created.name, {av1.JobState.JOB_STATE_RUNNING}, timeout_s=60)
        wait_for_lines(server, created.name, replicas, "raylet=")
        # Spread: one replica of each job on each node, the worker node among them.
        assert worker_raylet in raylets_of(server, created.name, replicas).values()

    try:
        ray_cluster.kill_worker()
        killed = time.monotonic()
        failed = wait_for(client, doomed.name, timeout_s=NODE_LOSS_BOUND_S)
        took = time.monotonic() - killed
        print(f"\nworker node killed: job FAILED after {took:.1f}s (bound {NODE_LOSS_BOUND_S}s)")
        assert failed.state == av1.JobState.JOB_STATE_FAILED
        assert failed.error.code == 13
        assert f"the Ray node {WORKER_IP}" in failed.error.message
        assert "died or left the Ray cluster" in failed.error.message

        restarted = wait_for(client, resilient.name, timeout_s=90)
        assert restarted.state == av1.JobState.JOB_STATE_SUCCEEDED, restarted.error
        log = job_log(server.url, resilient.name)
        assert "attempt 2 of job" in log and "second attempt" in log
        # Nothing of either job is left running, on the dead node or the live one.
        deadline = time.monotonic() + 15
        while processes_with(f"sleep {marker}") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert processes_with(f"sleep {marker}") == []
        # The lines the dead node's replica wrote came home before it died, and stay.
        logs = requests.get(f"{server.url}/customjobs/v1/{doomed.name}/logs", timeout=30).text
        assert "[workerpool0-0] raylet=" in logs and "[workerpool1-0] raylet=" in logs
    finally:
        ray_cluster.start_worker()


def test_an_unreachable_cluster_stops_the_server_at_once_saying_where(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    argv = [sys.executable, "-m", "customjobs.cli.main", "serve", "--port", str(free_port())]
    argv += ["--data-dir", str(tmp_path), "--backend", "ray", "--ray-address", f"127.0.0.1:{port}"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"Error: cannot connect to the Ray cluster at 127.0.0.1:{port}" in done.stderr


def test_cancel_stops_every_replica_then_drops_it_from_its_agent_and_removes_the_placement_group(
    server: ServerProcess, ray_cluster: RayCluster
) -> None:
    marker = f"{uuid.uuid4().int % 10**6}.5"
    client = rest_client(server.url)
    spec = job("cancel-ray", pool(["sleep", marker]), pool(["sh", "-c", f"sleep {marker} & wait"], 2))
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    wait_for(client, created.name, {av1.JobState.JOB_STATE_RUNNING}, timeout_s=60)
    job_id = created.name.rsplit("/", 1)[1]
    group = f"customjobs-job-{job_id}-attempt-1"
    assert ray_cluster.placement_group_state(group) == "CREATED"
    assert f"{group}-workerpool1-1" in ray_cluster.hosted_replicas()
    deadline = time.monotonic() + 30
    while len(processes_with(f"sleep {marker}")) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.1)

    client.cancel_custom_job(name=created.name)
    done = wait_for(client, created.name, timeout_s=30)
    assert done.state == av1.JobState.JOB_STATE_CANCELLED
    assert processes_with(f"sleep {marker}") == []
    assert ray_cluster.placement_group_state(group) == "REMOVED"
    assert not [k for k in ray_cluster.hosted_replicas() if k.startswith(f"{group}-")]
    # The attempt's files on the nodes went with it (its log is home); the job's folders stay.
    assert list((ray_cluster.temp_dir / "nodes").glob(f"*/job-{job_id}/venv"))
    assert list((ray_cluster.temp_dir / "nodes").glob(f"*/job-{job_id}/attempt-1")) == []
