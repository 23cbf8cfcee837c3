"""A job's whole life through the official Vertex client over REST: run, fail, cancel, time out, delete."""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

import pytest
from google.api_core import exceptions
from google.cloud import aiplatform_v1 as av1

from e2e.vertex import PARENT, job, pool, rest_client, wait_for
from support.server import ServerProcess, processes_with

# Every replica records what Vertex told it; the primary waits for the workers' records
# so that all three are written before the job ends (Vertex stops workers once the primary exits).
REPLICA_SCRIPT = r"""
import json, os, pathlib, time
spec = json.loads(os.environ["CLUSTER_SPEC"])
task = spec["task"]
name = f"{task['type']}-{task['index']}"
model_dir = pathlib.Path(os.environ["AIP_MODEL_DIR"])
keys = ("TF_CONFIG", "RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
        "CLOUD_ML_JOB_ID", "CLOUD_ML_PROJECT_ID", "GREETING", "AIP_CHECKPOINT_DIR")
record = {k: os.environ.get(k) for k in keys}
record["CLUSTER_SPEC"] = spec
(model_dir / f"{name}.json").write_text(json.dumps(record))
if task["type"] == "workerpool0":
    deadline = time.time() + 30
    while len(list(model_dir.glob("workerpool1-*.json"))) < 2 and time.time() < deadline:
        time.sleep(0.05)
    print("primary done")
else:
    time.sleep(60)
"""


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> av1.JobServiceClient:
    return rest_client(server.url)


def test_two_pool_job_sees_vertex_environment_and_succeeds(
    client: av1.JobServiceClient, tmp_path: Path, node_addresses: set[str]
) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-c", REPLICA_SCRIPT]
    env = {"GREETING": "hello from $(CLOUD_ML_PROJECT_ID)"}
    spec = job(
        "two-pools",
        pool(command, 1, env),
        pool(command, 2, env),
        base_output_directory=av1.GcsDestination(output_uri_prefix=f"file://{out}"),
    )
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    assert created.state == av1.JobState.JOB_STATE_PENDING
    assert created.name.startswith(PARENT + "/customJobs/")
    job_id = created.name.rsplit("/", 1)[1]
    assert len(job_id) == 19 and job_id.isdigit()

    done = wait_for(client, created.name)
    assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error
    assert done.start_time and done.end_time and done.start_time <= done.end_time
    assert done.update_time >= done.end_time
    assert done.job_spec.worker_pool_specs[1].replica_count == 2
    assert done.job_spec.worker_pool_specs[0].disk_spec.boot_disk_size_gb == 100

    records = {p.stem: json.loads(p.read_text()) for p in (out / "model").glob("*.json")}
    assert set(records) == {"workerpool0-0", "workerpool1-0", "workerpool1-1"}
    cluster = records["workerpool0-0"]["CLUSTER_SPEC"]["cluster"]
    hosts = cluster["workerpool0"] + cluster["workerpool1"]
    assert len(cluster["workerpool1"]) == 2 and len(set(hosts)) == 3
    # Addresses of the nodes the replicas run on (this machine's loopback, or Ray nodes').
    assert {h.rsplit(":", 1)[0] for h in hosts} <= node_addresses
    for name, record in records.items():
        spec_env = record["CLUSTER_SPEC"]
        assert spec_env["environment"] == "cloud"
        assert f"{spec_env['task']['type']}-{spec_env['task']['index']}" == name
        assert spec_env["cluster"] == cluster
        assert spec_env["job"]["worker_pool_specs"][1]["replica_count"] == "2"
        tf = json.loads(record["TF_CONFIG"])
        assert tf["cluster"] == {"chief": cluster["workerpool0"], "worker": cluster["workerpool1"]}
        assert record["WORLD_SIZE"] == "3"
        assert record["MASTER_ADDR"] == cluster["workerpool0"][0].rsplit(":", 1)[0]
        assert record["MASTER_PORT"] == cluster["workerpool0"][0].split(":")[1]
        assert record["CLOUD_ML_JOB_ID"] == job_id
        assert record["CLOUD_ML_PROJECT_ID"] == "test-project"
        assert record["GREETING"] == "hello from test-project"
        assert record["AIP_CHECKPOINT_DIR"] == f"{out}/checkpoints/"
    assert json.loads(records["workerpool0-0"]["TF_CONFIG"])["task"] == {"type": "chief", "index": 0}
    assert json.loads(records["workerpool1-1"]["TF_CONFIG"])["task"] == {"type": "worker", "index": 1}
    assert sorted(r["RANK"] for r in records.values()) == ["0", "1", "2"]
    assert records["workerpool0-0"]["RANK"] == "0"


def test_single_replica_job_has_no_tf_config(client: av1.JobServiceClient, tmp_path: Path) -> None:
    marker = tmp_path / "env.json"
    script = f"import json, os; open({str(marker)!r}, 'w').write(json.dumps(dict(os.environ)))"
    created = client.create_custom_job(
        parent=PARENT, custom_job=job("single", pool([sys.executable, "-c", script]))
    )
    assert wait_for(client, created.name).state == av1.JobState.JOB_STATE_SUCCEEDED
    env = json.loads(marker.read_text())
    assert "TF_CONFIG" not in env
    assert json.loads(env["CLUSTER_SPEC"])["cluster"]["workerpool0"]
    assert "AIP_MODEL_DIR" not in env


def test_failing_worker_fails_the_job_with_its_exit_code_and_log(client: av1.JobServiceClient) -> None:
    worker = [sys.executable, "-c", "import sys; print('loading data'); print('bad shard 7'); sys.exit(3)"]
    spec = job("fails", pool(["sleep", "30"]), pool(worker))
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    done = wait_for(client, created.name)
    assert done.state == av1.JobState.JOB_STATE_FAILED
    assert "The replica workerpool1-0 exited with a non-zero status of 3." in done.error.message
    assert "bad shard 7" in done.error.message
    assert done.error.code == 3
    assert done.end_time


def test_primary_that_cannot_start_fails_with_shell_status(client: av1.JobServiceClient) -> None:
    created = client.create_custom_job(parent=PARENT, custom_job=job("nocmd", pool(["/no/such/binary"])))
    done = wait_for(client, created.name)
    assert done.state == av1.JobState.JOB_STATE_FAILED
    assert "workerpool0-0 exited with a non-zero status of 127" in done.error.message


def test_cancel_stops_every_process_within_seconds(client: av1.JobServiceClient) -> None:
    marker = f"{random.randint(100000, 999999)}.5"
    spec = job("cancel-me", pool(["sleep", marker]), pool(["sleep", marker], replicas=2))
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    wait_for(client, created.name, {av1.JobState.JOB_STATE_RUNNING})
    # Only the wait after the cancel is what this test bounds. The replicas' processes may
    # take longer to show on a loaded machine (on Ray, a node agent starts each one): a clean
    # clone's full `make test` once saw 2 of 3 after 10 s.
    deadline = time.monotonic() + 30
    while len(processes_with(f"sleep {marker}")) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(processes_with(f"sleep {marker}")) >= 3

    started = time.monotonic()
    client.cancel_custom_job(name=created.name)
    assert client.get_custom_job(name=created.name).state in (
        av1.JobState.JOB_STATE_CANCELLING,
        av1.JobState.JOB_STATE_CANCELLED,
    )
    done = wait_for(client, created.name, timeout_s=20)
    assert time.monotonic() - started < 10
    assert done.state == av1.JobState.JOB_STATE_CANCELLED
    assert done.error.code == 1
    assert done.end_time
    assert processes_with(f"sleep {marker}") == []

    # Cancelling a finished job is a FAILED_PRECONDITION naming its state (HTTP 400).
    with pytest.raises(exceptions.BadRequest, match="JOB_STATE_CANCELLED"):
        client.cancel_custom_job(name=created.name)


def test_timeout_fails_the_job_with_deadline_exceeded(client: av1.JobServiceClient) -> None:
    spec = job("slow", pool(["sleep", "600"]), scheduling=av1.Scheduling(timeout={"seconds": 1}))
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    done = wait_for(client, created.name, timeout_s=30)
    assert done.state == av1.JobState.JOB_STATE_FAILED
    assert done.error.code == 4
    assert "timeout of 1s" in done.error.message


def test_delete_returns_an_operation_then_the_job_is_gone(client: av1.JobServiceClient) -> None:
    created = client.create_custom_job(parent=PARENT, custom_job=job("to-delete", pool(["true"])))
    wait_for(client, created.name)
    operation = client.delete_custom_job(name=created.name)
    assert operation.result(timeout=30) is not None
    assert isinstance(operation.metadata, av1.DeleteOperationMetadata)
    assert operation.operation.name.startswith(PARENT + "/operations/")
    with pytest.raises(exceptions.NotFound):
        client.get_custom_job(name=created.name)
    with pytest.raises(exceptions.NotFound):
        client.delete_custom_job(name=created.name)
    fetched = client.get_operation({"name": operation.operation.name})
    assert fetched.done


def test_delete_of_a_running_job_is_refused(client: av1.JobServiceClient) -> None:
    created = client.create_custom_job(parent=PARENT, custom_job=job("busy", pool(["sleep", "600"])))
    wait_for(client, created.name, {av1.JobState.JOB_STATE_RUNNING})
    with pytest.raises(exceptions.BadRequest, match="JOB_STATE_RUNNING"):
        client.delete_custom_job(name=created.name)
    client.cancel_custom_job(name=created.name)
    assert wait_for(client, created.name).state == av1.JobState.JOB_STATE_CANCELLED
    client.delete_custom_job(name=created.name).result(timeout=30)


def test_unknown_job_is_not_found(client: av1.JobServiceClient) -> None:
    name = f"{PARENT}/customJobs/1234567890123456789"
    for call in (client.get_custom_job, client.cancel_custom_job, client.delete_custom_job):
        with pytest.raises(exceptions.NotFound):
            call(name=name)
