"""The official Vertex client pointed at a test server, and small helpers around it."""

from __future__ import annotations

import time
from typing import Any

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import aiplatform_v1 as av1

PARENT = "projects/test-project/locations/us-central1"
TERMINAL = {
    av1.JobState.JOB_STATE_SUCCEEDED,
    av1.JobState.JOB_STATE_FAILED,
    av1.JobState.JOB_STATE_CANCELLED,
}


def rest_client(url: str) -> av1.JobServiceClient:
    return av1.JobServiceClient(
        transport="rest", credentials=AnonymousCredentials(), client_options=ClientOptions(api_endpoint=url)
    )


def pool(command: list[str], replicas: int = 1, env: dict[str, str] | None = None) -> av1.WorkerPoolSpec:
    return av1.WorkerPoolSpec(
        machine_spec=av1.MachineSpec(machine_type="n1-standard-4"),
        replica_count=replicas,
        container_spec=av1.ContainerSpec(
            image_uri="local/python",
            command=command,
            env=[av1.EnvVar(name=k, value=v) for k, v in (env or {}).items()],
        ),
    )


def job(display_name: str, *pools: av1.WorkerPoolSpec, **spec: Any) -> av1.CustomJob:
    labels = spec.pop("labels", {})
    return av1.CustomJob(
        display_name=display_name,
        labels=labels,
        job_spec=av1.CustomJobSpec(worker_pool_specs=list(pools), **spec),
    )


def wait_for(
    client: av1.JobServiceClient, name: str, states: set[av1.JobState] | None = None, timeout_s: float = 60
) -> av1.CustomJob:
    states = states or TERMINAL
    deadline = time.monotonic() + timeout_s
    while True:
        current = client.get_custom_job(name=name)
        if current.state in states:
            return current
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} still {current.state.name} after {timeout_s}s")
        time.sleep(0.05)
