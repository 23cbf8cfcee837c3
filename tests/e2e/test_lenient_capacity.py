"""The default (lenient) mode on a machine without the GPUs a job asks for: it still runs.

An `a2-highgpu-1g` job with one A100 (12 vCPUs, 85 GB) runs to SUCCEEDED here, clamped to
this machine, with the A100 left out and its log's first line saying so.
"""

from __future__ import annotations

import sys

import pytest
import requests
from google.cloud import aiplatform_v1 as av1

from customjobs.execution.host import detect_gpus
from e2e.vertex import PARENT, job, rest_client, wait_for
from support.server import ServerProcess


def a2_pool(command: list[str]) -> av1.WorkerPoolSpec:
    return av1.WorkerPoolSpec(
        machine_spec=av1.MachineSpec(
            machine_type="a2-highgpu-1g", accelerator_type="NVIDIA_TESLA_A100", accelerator_count=1
        ),
        replica_count=1,
        container_spec=av1.ContainerSpec(image_uri="local/python", command=command),
    )


def test_an_a2_job_runs_without_its_gpu_and_its_log_says_what_was_left_out(server: ServerProcess) -> None:
    if "NVIDIA_TESLA_A100" in detect_gpus():
        pytest.skip("this machine has an A100, so nothing is left out: the test did not run here")
    client = rest_client(server.url)
    script = "import os; print('visible=[%s]' % os.environ.get('CUDA_VISIBLE_DEVICES', 'unset'))"
    created = client.create_custom_job(
        parent=PARENT, custom_job=job("a2", a2_pool([sys.executable, "-c", script]))
    )

    done = wait_for(client, created.name)

    assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error
    response = requests.get(
        f"{server.url}/customjobs/v1/{created.name}/logs", params={"replica": "workerpool0-0"}, timeout=30
    )
    lines = response.text.splitlines()
    assert lines[0].startswith(
        "[customjobs] workerpool0-0 asked for a2-highgpu-1g: 12 vCPUs, 85 GB of memory, "
        "1 NVIDIA_TESLA_A100; it got "
    )
    assert "and no GPU" in lines[0]
    assert "Left out: 1 NVIDIA_TESLA_A100 (this machine has none)." in lines[0]
    assert "it runs alone" in lines[0]
    assert lines[1] == "visible=[]"
