"""The same client calls over REST and plaintext gRPC must give the same answers.

One suite, parametrized over the official JobServiceClient's two transports, against one
server that serves both from one runtime (so a job made over one is seen over the other).
"""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import aiplatform_v1 as av1
from google.protobuf import json_format
from google.rpc import error_details_pb2

from e2e.grpc_helpers import GrpcServerProcess, plaintext_client
from e2e.vertex import PARENT, job, pool, rest_client, wait_for

TRANSPORTS = ("rest", "grpc")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GrpcServerProcess]:
    srv = GrpcServerProcess(tmp_path_factory.mktemp("transports"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def clients(server: GrpcServerProcess) -> Iterator[dict[str, av1.JobServiceClient]]:
    grpc_client, channel = plaintext_client(server.grpc_port)
    yield {"rest": rest_client(server.url), "grpc": grpc_client}
    channel.close()


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def client(clients: dict[str, av1.JobServiceClient], transport: str) -> av1.JobServiceClient:
    return clients[transport]


def test_two_pool_job_succeeds(client: av1.JobServiceClient) -> None:
    primary = pool([sys.executable, "-c", "print('chief done')"])
    workers = pool([sys.executable, "-c", "import time; time.sleep(30)"], replicas=2)
    created = client.create_custom_job(parent=PARENT, custom_job=job("two-pools", primary, workers))
    assert created.state == av1.JobState.JOB_STATE_PENDING
    assert created.name.startswith(PARENT + "/customJobs/")
    done = wait_for(client, created.name)
    assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error
    assert done.job_spec.worker_pool_specs[1].replica_count == 2
    assert done.start_time <= done.end_time <= done.update_time


def test_failing_worker_fails_the_job(client: av1.JobServiceClient) -> None:
    worker = pool([sys.executable, "-c", "import sys; print('bad shard 7'); sys.exit(3)"])
    created = client.create_custom_job(parent=PARENT, custom_job=job("fails", pool(["sleep", "30"]), worker))
    done = wait_for(client, created.name)
    assert done.state == av1.JobState.JOB_STATE_FAILED
    assert "The replica workerpool1-0 exited with a non-zero status of 3." in done.error.message
    assert done.error.code == 3


def test_cancel_of_a_running_job(client: av1.JobServiceClient) -> None:
    created = client.create_custom_job(parent=PARENT, custom_job=job("cancel-me", pool(["sleep", "600"])))
    wait_for(client, created.name, {av1.JobState.JOB_STATE_RUNNING})
    client.cancel_custom_job(name=created.name)
    done = wait_for(client, created.name, timeout_s=20)
    assert done.state == av1.JobState.JOB_STATE_CANCELLED
    assert done.error.code == 1


def test_list_with_filter_pages_newest_first(client: av1.JobServiceClient) -> None:
    batch = uuid.uuid4().hex
    created = [
        client.create_custom_job(
            parent=PARENT, custom_job=job(f"list-{i}", pool(["true"]), labels={"batch": batch})
        ).name
        for i in range(5)
    ]
    pager = client.list_custom_jobs(
        request={"parent": PARENT, "filter": f'labels.batch="{batch}"', "page_size": 2}
    )
    pages = [[j.name for j in page.custom_jobs] for page in pager.pages]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [name for page in pages for name in page] == list(reversed(created))


def test_delete_then_get_is_not_found(client: av1.JobServiceClient) -> None:
    created = client.create_custom_job(parent=PARENT, custom_job=job("to-delete", pool(["true"])))
    wait_for(client, created.name)
    operation = client.delete_custom_job(name=created.name)
    operation.result(timeout=30)
    assert isinstance(operation.metadata, av1.DeleteOperationMetadata)
    assert operation.operation.name.startswith(PARENT + "/operations/")
    with pytest.raises(exceptions.NotFound):
        client.get_custom_job(name=created.name)
    assert client.get_operation({"name": operation.operation.name}).done


# Both transports raise a subclass of api_core's BadRequest, so `except BadRequest` works on both.
INVALID_CREATE_CLASS = {"rest": exceptions.BadRequest, "grpc": exceptions.InvalidArgument}
INVALID_CREATE_MESSAGE = (
    "List of found errors:\t1.Field: job_spec.worker_pool_specs[0].machine_spec.machine_type; "
    "Message: Required field is not set.\t"
)


def _violations(exc: exceptions.GoogleAPICallError) -> list[dict[str, Any]]:
    """Field violations from the error details: JSON dicts over REST, BadRequest messages over gRPC."""
    found = []
    for detail in exc.details:
        if isinstance(detail, error_details_pb2.BadRequest):
            found += json_format.MessageToDict(detail)["fieldViolations"]
        else:
            assert detail["@type"] == "type.googleapis.com/google.rpc.BadRequest"
            found += detail["fieldViolations"]
    return found


def test_invalid_create_is_the_same_error_on_both(client: av1.JobServiceClient, transport: str) -> None:
    bad_pool = av1.WorkerPoolSpec(replica_count=1, container_spec=av1.ContainerSpec(image_uri="x"))
    with pytest.raises(exceptions.BadRequest) as info:
        client.create_custom_job(parent=PARENT, custom_job=job("bad", bad_pool))
    assert type(info.value) is INVALID_CREATE_CLASS[transport]
    # api_core prefixes REST messages with the request line; the server's text is the same.
    assert re.sub(r"^POST \S+: ", "", info.value.message) == INVALID_CREATE_MESSAGE
    assert _violations(info.value) == [
        {
            "field": "job_spec.worker_pool_specs[0].machine_spec.machine_type",
            "description": "Required field is not set.",
        }
    ]


def test_unknown_job_is_not_found(client: av1.JobServiceClient) -> None:
    name = f"{PARENT}/customJobs/1234567890123456789"
    for call in (client.get_custom_job, client.cancel_custom_job, client.delete_custom_job):
        with pytest.raises(exceptions.NotFound, match="does not exist"):
            call(name=name)


def test_v1beta1_reads_jobs_made_over_v1(client: av1.JobServiceClient, server: GrpcServerProcess) -> None:
    from google.cloud import aiplatform_v1beta1 as beta
    from google.cloud.aiplatform_v1beta1.services.job_service.transports import JobServiceGrpcTransport

    created = client.create_custom_job(parent=PARENT, custom_job=job("beta", pool(["true"])))
    if client.transport.kind == "rest":
        beta_client = beta.JobServiceClient(
            transport="rest",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": server.url},
        )
    else:
        beta_client = beta.JobServiceClient(
            transport=JobServiceGrpcTransport(channel=client.transport.grpc_channel)
        )
    fetched = beta_client.get_custom_job(name=created.name)
    assert fetched.display_name == "beta"
    assert created.name in [j.name for j in beta_client.list_custom_jobs(parent=PARENT)]


UNKNOWN_METHOD_CLASS = {"rest": exceptions.NotFound, "grpc": exceptions.MethodNotImplemented}


def test_other_job_service_methods_are_not_served(client: av1.JobServiceClient, transport: str) -> None:
    with pytest.raises(exceptions.GoogleAPICallError) as info:
        client.list_batch_prediction_jobs(parent=PARENT)
    assert type(info.value) is UNKNOWN_METHOD_CLASS[transport]
