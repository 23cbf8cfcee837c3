"""A strict server (`--strict-capacity --cpus 4 --memory-gb 16 --gpus NVIDIA_TESLA_T4:2`):
jobs queue with a reason, start whole, in priority order, with backfill, and never beyond capacity.

Every test leaves no job running behind it; the last test checks the whole module's state
history (the events table, read through the store) against the capacity.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.api_core import exceptions
from google.cloud import aiplatform_v1 as av1

from e2e.capacity_helpers import (
    PARENT,
    Api,
    body,
    gated,
    peak_usage,
    pool,
    running_intervals,
    running_order,
)
from e2e.grpc_helpers import GrpcServerProcess, plaintext_client
from e2e.vertex import rest_client

SERVER_ARGS = ("--strict-capacity", "--cpus", "4", "--memory-gb", "16", "--gpus", "NVIDIA_TESLA_T4:2")
QUEUED, RUNNING, SUCCEEDED = "JOB_STATE_QUEUED", "JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GrpcServerProcess]:
    srv = GrpcServerProcess(tmp_path_factory.mktemp("strict"), *SERVER_ARGS)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def api(server: GrpcServerProcess) -> Api:
    return Api(server.url)


def cli(server: GrpcServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [
        sys.executable,
        "-m",
        "customjobs.cli.main",
        "jobs",
        "--endpoint",
        server.url,
        "--project",
        "capacity",
    ]
    return subprocess.run([*argv, *args], capture_output=True, text=True, timeout=60)


def test_jobs_beyond_capacity_queue_with_a_reason_and_a_position(
    server: GrpcServerProcess, api: Api, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    big = api.create(body("big", pool("n1-standard-4", gated(gate))))
    api.wait(big, RUNNING)
    first = api.create(body("first", pool("n1-standard-1", ["true"])))
    second = api.create(body("second", pool("n1-standard-1", ["true"])))

    queued = api.wait(second, QUEUED)
    assert api.wait(first, QUEUED)["customjobsQueue"]["position"] == 1
    assert queued["customjobsQueue"] == {
        "reason": "Waiting for free vCPUs and memory: the job needs 1 vCPU, 3.75 GB of memory at once.",
        "position": 2,
    }
    # The official client ignores the extra member; the state is Vertex's own.
    assert rest_client(server.url).get_custom_job(name=second).state == av1.JobState.JOB_STATE_QUEUED
    described = json.loads(cli(server, "describe", second, "--format", "json").stdout)
    assert described["customjobsQueue"]["position"] == 2
    table = cli(server, "list").stdout
    assert "QUEUED #2" in table and "WAITING FOR" in table and "Waiting for free vCPUs" in table

    gate.touch()
    for name in (big, first, second):
        assert api.wait(name)["state"] == SUCCEEDED
    assert "customjobsQueue" not in api.get(second)


def test_a_three_replica_job_is_never_partly_started(
    server: GrpcServerProcess, api: Api, tmp_path: Path
) -> None:
    gate, started = tmp_path / "gate", tmp_path / "started"
    started.mkdir()
    blocker = api.create(body("blocker", pool("n1-standard-2", gated(gate))))
    api.wait(blocker, RUNNING)
    mark = ["sh", "-c", f'echo x > "{started}/$CLOUD_ML_JOB_ID-$RANK"']
    gang = api.create(body("gang", pool("n1-standard-1", mark), pool("n1-standard-1", mark, replicas=2)))

    assert api.wait(gang, QUEUED)["customjobsQueue"]["reason"].startswith("Waiting for free vCPUs")
    assert list(started.iterdir()) == []
    assert not list((server.data_dir / "jobs" / gang.rsplit("/", 1)[1]).glob("*/*.log"))

    gate.touch()
    assert api.wait(gang)["state"] == SUCCEEDED
    job_id = gang.rsplit("/", 1)[1]
    assert sorted(p.name for p in started.iterdir()) == [f"{job_id}-{rank}" for rank in range(3)]
    assert api.wait(blocker)["state"] == SUCCEEDED


def test_priorities_first_then_first_come_first_served(
    server: GrpcServerProcess, api: Api, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    blocker = api.create(body("blocker", pool("n1-standard-4", gated(gate))))
    api.wait(blocker, RUNNING)
    plan = [("low-1", None), ("low-2", 0), ("high-1", 5), ("high-2", 5), ("lowest", -3)]
    names = {label: api.create(body(label, pool("n1-standard-4", ["true"]), priority=p)) for label, p in plan}
    try:
        # Positions are read once every job is queued: a job still PENDING holds no place yet.
        for name in names.values():
            api.wait(name, QUEUED)
        positions = {label: api.get(name)["customjobsQueue"]["position"] for label, name in names.items()}
        assert positions == {"high-1": 1, "high-2": 2, "low-1": 3, "low-2": 4, "lowest": 5}
    finally:
        gate.touch()  # never leave the blocker holding the capacity the next tests need

    for name in names.values():
        assert api.wait(name)["state"] == SUCCEEDED
    order = running_order(server.data_dir, list(names.values()))
    assert order == [names[label] for label in ("high-1", "high-2", "low-1", "low-2", "lowest")]


def test_backfill_starts_a_small_job_without_delaying_the_head(
    server: GrpcServerProcess, api: Api, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    running = api.create(body("running", pool("n1-standard-2", gated(gate)), timeout="120s"))
    api.wait(running, RUNNING)
    head = api.create(body("head", pool("n1-standard-4", ["true"])))
    api.wait(head, QUEUED)
    short = api.create(body("short", pool("n1-standard-1", ["true"]), timeout="10s"))
    long = api.create(body("long", pool("n1-standard-1", ["true"]), timeout="3600s"))

    # The short job ends (by its timeout) before the running one can, so before the head
    # could start: it runs now. The long one could hold its vCPU past that: it waits.
    assert api.wait(short)["state"] == SUCCEEDED
    waiting = api.wait(long, QUEUED)["customjobsQueue"]
    assert waiting["reason"] == (
        "Waiting for its turn: what it needs is free, but starting it now could delay "
        f"job {head.rsplit('/', 1)[1]}, ahead of it in the queue."
    )
    assert api.get(head)["state"] == QUEUED

    gate.touch()
    for name in (running, head, long):
        assert api.wait(name)["state"] == SUCCEEDED
    intervals = {job_id: start for job_id, start, _, _ in running_intervals(server.data_dir)}
    running_start = intervals[int(running.rsplit("/", 1)[1])]
    head_start = intervals[int(head.rsplit("/", 1)[1])]
    # Never later than its estimate (the running job's start + its 120 s timeout), and before `long`.
    assert head_start <= running_start + 120e6
    assert running_order(server.data_dir, [head, long]) == [head, long]


def test_max_wait_duration_expires_a_queued_job(server: GrpcServerProcess, api: Api, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    blocker = api.create(body("blocker", pool("n1-standard-4", gated(gate))))
    api.wait(blocker, RUNNING)
    impatient = api.create(body("impatient", pool("n1-standard-4", ["true"]), maxWaitDuration="1s"))

    done = api.wait(impatient)

    assert done["state"] == "JOB_STATE_FAILED"
    assert done["error"]["code"] == 8
    assert done["error"]["message"].startswith(
        "The job waited longer than its maxWaitDuration of 1s (job_spec.scheduling.max_wait_duration)"
    )
    gate.touch()
    assert api.wait(blocker)["state"] == SUCCEEDED


def test_gpu_replicas_get_disjoint_devices(server: GrpcServerProcess, api: Api, tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    seen.mkdir()
    record = ["sh", "-c", f'printf %s "${{CUDA_VISIBLE_DEVICES-unset}}" > "{seen}/$CLOUD_ML_JOB_ID.$RANK"']
    ps = ["sh", "-c", f'printf %s "${{CUDA_VISIBLE_DEVICES-unset}}" > "{seen}/ps"']
    one_job = api.create(
        body(
            "two-gpus",
            pool("n1-standard-1", record, gpus=1),
            pool("n1-standard-1", record, gpus=1),
            pool("n1-standard-1", ps),
        )
    )
    assert api.wait(one_job)["state"] == SUCCEEDED
    job_id = one_job.rsplit("/", 1)[1]
    devices = {(seen / f"{job_id}.{rank}").read_text() for rank in (0, 1)}
    assert devices == {"0", "1"}
    assert (seen / "ps").read_text() == ""  # no accelerators: no GPU at all

    # Two jobs of one GPU each, running at the same time, hold different devices.
    gate = tmp_path / "gate"
    keep = gated(gate, then="true")
    keep[2] = f'printf %s "$CUDA_VISIBLE_DEVICES" > "{seen}/$CLOUD_ML_JOB_ID"; {keep[2]}'
    pair = [api.create(body(f"gpu-{i}", pool("n1-standard-1", keep, gpus=1))) for i in range(2)]
    for name in pair:
        api.wait(name, RUNNING)
    third = api.create(body("gpu-2", pool("n1-standard-1", ["true"], gpus=1)))
    assert "NVIDIA_TESLA_T4 GPUs" in api.wait(third, QUEUED)["customjobsQueue"]["reason"]
    gate.touch()
    for name in (*pair, third):
        assert api.wait(name)["state"] == SUCCEEDED
    assert {(seen / n.rsplit("/", 1)[1]).read_text() for n in pair} == {"0", "1"}


def test_a_job_needing_16_gpus_is_refused_at_create_on_both_transports(server: GrpcServerProcess) -> None:
    four = av1.MachineSpec(
        machine_type="n1-standard-4", accelerator_type="NVIDIA_TESLA_T4", accelerator_count=4
    )
    container = av1.ContainerSpec(image_uri="local", command=["true"])
    job = av1.CustomJob(
        display_name="sixteen-gpus",
        job_spec=av1.CustomJobSpec(
            worker_pool_specs=[
                av1.WorkerPoolSpec(machine_spec=four, replica_count=1, container_spec=container),
                av1.WorkerPoolSpec(machine_spec=four, replica_count=3, container_spec=container),
            ]
        ),
    )
    grpc_client, channel = plaintext_client(server.grpc_port)
    for client in (rest_client(server.url), grpc_client):
        with pytest.raises(exceptions.BadRequest) as refused:
            client.create_custom_job(parent=PARENT, custom_job=job)
        assert "needs 16 vCPUs, 60 GB of memory, 16 NVIDIA_TESLA_T4 at once" in refused.value.message
        assert "short of 12 vCPUs, 44 GB of memory, 14 NVIDIA_TESLA_T4" in refused.value.message
    channel.close()


def test_no_moment_exceeded_capacity(server: GrpcServerProcess) -> None:
    """Everything this module ran, from the state history: never beyond 4 vCPUs, 16 GB, 2 GPUs."""
    intervals = running_intervals(server.data_dir)
    assert len(intervals) >= 20
    cpus, memory, gpus, _ = peak_usage(intervals)
    assert cpus <= 4 and memory <= 16 and gpus <= 2
    assert cpus == 4 and gpus == 2  # the tests above did fill the machine
