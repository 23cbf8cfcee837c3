"""On a machine where nvidia-smi finds at least two GPUs: two replicas of one GPU each see
only their own (torch.cuda.device_count() == 1, on different devices); a replica without
accelerators sees none. Elsewhere this test says plainly that it did not run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from google.cloud import aiplatform_v1 as av1

from customjobs.domain.machines import MACHINE_TYPES
from customjobs.execution.host import detect_gpus
from e2e.vertex import PARENT, job, rest_client, wait_for
from support.server import ServerProcess

PROBE = """
import json, os, pathlib, torch
name = json.loads(os.environ["CLUSTER_SPEC"])["task"]
count = torch.cuda.device_count()
uuid = str(torch.cuda.get_device_properties(0).uuid) if count else None
record = {"count": count, "uuid": uuid, "visible": os.environ.get("CUDA_VISIBLE_DEVICES")}
pathlib.Path(os.environ["OUT"], f"{name['type']}-{name['index']}.json").write_text(json.dumps(record))
"""


def test_two_gpu_replicas_each_see_only_their_own_gpu(
    server_factory: type[ServerProcess], tmp_path: Path
) -> None:
    gpus = detect_gpus()
    kind, devices = max(gpus.items(), key=lambda item: len(item[1]), default=("", ()))
    if len(devices) < 2:
        found = ", ".join(f"{len(d)} {k}" for k, d in gpus.items()) or "none"
        pytest.skip(
            f"needs two GPUs of one type found by nvidia-smi; this machine has {found}: did not run here"
        )
    pytest.importorskip("torch")
    server = server_factory(tmp_path / "gpu")
    server.start()
    out = tmp_path / "out"
    out.mkdir()
    env = [av1.EnvVar(name="OUT", value=str(out))]
    container = av1.ContainerSpec(image_uri="local", command=[sys.executable, "-c", PROBE], env=env)
    with_gpu = av1.MachineSpec(machine_type=one_gpu_machine(kind), accelerator_type=kind, accelerator_count=1)
    pools = [
        av1.WorkerPoolSpec(machine_spec=with_gpu, replica_count=1, container_spec=container),
        av1.WorkerPoolSpec(machine_spec=with_gpu, replica_count=1, container_spec=container),
        av1.WorkerPoolSpec(
            machine_spec=av1.MachineSpec(machine_type="n1-standard-4"),
            replica_count=1,
            container_spec=container,
        ),
    ]
    client = rest_client(server.url)
    created = client.create_custom_job(parent=PARENT, custom_job=job("gpus", *pools))
    done = wait_for(client, created.name, timeout_s=300)
    assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error

    seen = {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}
    assert seen["workerpool0-0"]["count"] == seen["workerpool1-0"]["count"] == 1
    assert seen["workerpool0-0"]["uuid"] != seen["workerpool1-0"]["uuid"]
    assert seen["workerpool2-0"]["count"] == 0 and seen["workerpool2-0"]["visible"] == ""


def one_gpu_machine(kind: str) -> str:
    """A machine type that carries one GPU of this kind (n1-standard-4 for a T4, a2-highgpu-1g...)."""
    return next(m.name for m in MACHINE_TYPES.values() if 1 in m.accelerators.get(kind, ()))
