"""The official Vertex client against an authenticating server, with a token or without one."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import aiplatform_v1 as av1
from google.cloud.aiplatform_v1.services.job_service.transports import JobServiceGrpcTransport
from google.longrunning import operations_pb2
from google.oauth2.credentials import Credentials

from e2e.grpc_helpers import GrpcServerProcess
from e2e.vertex import job, wait_for
from support.security import ALICE, PARENT_A, ROOT


def rest_client(url: str, token: str | None) -> av1.JobServiceClient:
    """REST with google-auth token credentials: the client sends `Authorization: Bearer`.

    On a 401 google-auth would refresh the credentials and retry, which a bare token (or
    none) cannot do, so the client would raise a refresh error instead of the server's
    answer. Refreshing is turned off here, so the 401 reaches the test as Unauthenticated.
    """
    credentials = Credentials(token=token) if token else AnonymousCredentials()
    client = av1.JobServiceClient(
        transport="rest", credentials=credentials, client_options=ClientOptions(api_endpoint=url)
    )
    client._transport._session._refresh_status_codes = ()
    return client


@contextmanager
def grpc_client(server: GrpcServerProcess, token: str | None) -> Iterator[av1.JobServiceClient]:
    """gRPC over TLS with the token as call credentials (`authorization` metadata), as the SDK sends it."""
    roots = Path(server.roots_file()).read_bytes()
    credentials = grpc.ssl_channel_credentials(root_certificates=roots)
    if token:
        credentials = grpc.composite_channel_credentials(
            credentials, grpc.access_token_call_credentials(token)
        )
    channel = grpc.secure_channel(f"localhost:{server.grpc_port}", credentials)
    try:
        yield av1.JobServiceClient(transport=JobServiceGrpcTransport(channel=channel))
    finally:
        channel.close()


# One vCPU each, so the scheduler runs a few at once on a small machine.
SMALL_MACHINE = "n1-standard-1"


def pool(command: list[str]) -> av1.WorkerPoolSpec:
    return av1.WorkerPoolSpec(
        machine_spec=av1.MachineSpec(machine_type=SMALL_MACHINE),
        replica_count=1,
        container_spec=av1.ContainerSpec(image_uri="local/python", command=command),
    )


@dataclass
class Seeded:
    """Alice's resources in team-a: a finished job, a running one, and a delete operation."""

    finished: str
    running: str
    operation: str


def cleanup(url: str, seeded: Seeded) -> None:
    """Cancel the running job, so the next test's jobs get the machine."""
    admin = rest_client(url, ROOT)
    with contextlib.suppress(Exception):
        admin.cancel_custom_job(name=seeded.running)
    wait_for(admin, seeded.running)


def seed(url: str) -> Seeded:
    alice = rest_client(url, ALICE)
    quick = pool([sys.executable, "-c", "print('done')"])
    slow = pool([sys.executable, "-c", "import time; time.sleep(120)"])
    finished = alice.create_custom_job(parent=PARENT_A, custom_job=job("finished", quick)).name
    doomed = alice.create_custom_job(parent=PARENT_A, custom_job=job("doomed", quick)).name
    running = alice.create_custom_job(parent=PARENT_A, custom_job=job("running", slow)).name
    wait_for(alice, finished)
    wait_for(alice, doomed)
    operation = alice.delete_custom_job(name=doomed).operation.name
    wait_for(alice, running, {av1.JobState.JOB_STATE_RUNNING})
    return Seeded(finished, running, operation)


def calls(parent: str, seeded: Seeded) -> dict[str, Callable[[av1.JobServiceClient], Any]]:
    """Every method, each aimed at alice's resources, keyed by the permission it needs."""
    op = seeded.operation
    new_job = job("new", pool([sys.executable, "-c", "print(1)"]))
    return {
        "aiplatform.customJobs.create": lambda c: c.create_custom_job(parent=parent, custom_job=new_job),
        "aiplatform.customJobs.get": lambda c: c.get_custom_job(name=seeded.finished),
        "aiplatform.customJobs.list": lambda c: list(c.list_custom_jobs(parent=parent)),
        "aiplatform.customJobs.cancel": lambda c: c.cancel_custom_job(name=seeded.running),
        "aiplatform.customJobs.delete": lambda c: c.delete_custom_job(name=seeded.finished),
        "aiplatform.operations.get": lambda c: c.get_operation(operations_pb2.GetOperationRequest(name=op)),
        "aiplatform.operations.list": lambda c: c.list_operations(
            operations_pb2.ListOperationsRequest(name=parent)
        ),
        "aiplatform.operations.get:wait": lambda c: c.wait_operation(
            operations_pb2.WaitOperationRequest(name=op)
        ),
        "aiplatform.operations.cancel": lambda c: c.cancel_operation(
            operations_pb2.CancelOperationRequest(name=op)
        ),
        "aiplatform.operations.delete": lambda c: c.delete_operation(
            operations_pb2.DeleteOperationRequest(name=op)
        ),
    }
