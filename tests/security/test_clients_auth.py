"""Every method refused without a token and with another project's, allowed with the right one.

Through the official low-level client over REST (google-auth token credentials) and over
gRPC with TLS (the token as call credentials, the `authorization` metadata). The 401 and
403 wording is Vertex's, and a 403 says the same whether the job exists or not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import aiplatform_v1 as av1

from e2e.grpc_helpers import GrpcServerProcess
from e2e.vertex import wait_for
from security.clients import Seeded, calls, cleanup, grpc_client, rest_client, seed
from support.security import (
    ALICE,
    BOB,
    CAROL,
    PARENT_A,
    PARENT_B,
    PROJECT_A,
    ROOT,
    UNAUTHENTICATED,
    denied,
    write_auth_files,
)

TRANSPORTS = ("rest", "grpc")
# HTTP 401 maps to Unauthorized, gRPC's UNAUTHENTICATED to Unauthenticated: the same answer.
REFUSED_401 = (exceptions.Unauthorized, exceptions.Unauthenticated)
REFUSED_403 = (exceptions.Forbidden, exceptions.PermissionDenied)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GrpcServerProcess]:
    root = tmp_path_factory.mktemp("auth-clients")
    srv = GrpcServerProcess(root / "server", "--grpc-tls", *write_auth_files(root / "auth"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def seeded(server: GrpcServerProcess) -> Iterator[Seeded]:
    resources = seed(server.url)
    yield resources
    cleanup(server.url, resources)


def client_for(
    server: GrpcServerProcess, transport: str, token: str | None
) -> AbstractContextManager[av1.JobServiceClient]:
    if transport == "rest":
        return nullcontext(rest_client(server.url, token))
    return grpc_client(server, token)


def _message(error: exceptions.GoogleAPICallError) -> str:
    """The server's message: the REST client puts `METHOD URL: ` before it."""
    return (
        error.message.rpartition(": ")[2]
        if error.message.startswith(("GET ", "POST ", "DELETE "))
        else error.message
    )


def _permission(key: str) -> str:
    return key.partition(":")[0]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_method_is_refused_without_a_token(
    server: GrpcServerProcess, seeded: Seeded, transport: str
) -> None:
    with client_for(server, transport, None) as client:
        for key, call in calls(PARENT_A, seeded).items():
            with pytest.raises(REFUSED_401) as refused:
                call(client)
            assert _message(refused.value) == UNAUTHENTICATED, key
    with client_for(server, transport, "a-token-nobody-was-given-0000") as client, pytest.raises(REFUSED_401):
        client.get_custom_job(name=seeded.finished)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_method_is_refused_with_another_projects_token(
    server: GrpcServerProcess, seeded: Seeded, transport: str
) -> None:
    with client_for(server, transport, BOB) as client:
        for key, call in calls(PARENT_A, seeded).items():
            with pytest.raises(REFUSED_403) as refused:
                call(client)
            assert _message(refused.value) == denied(_permission(key), PROJECT_A), key


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_viewer_reads_but_does_not_change(
    server: GrpcServerProcess, seeded: Seeded, transport: str
) -> None:
    with client_for(server, transport, CAROL) as client:
        for key, call in calls(PARENT_A, seeded).items():
            if key.rpartition(".")[2] in ("get", "list", "get:wait"):
                call(client)
                continue
            with pytest.raises(REFUSED_403) as refused:
                call(client)
            assert _message(refused.value) == denied(_permission(key), PROJECT_A), key


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_method_is_allowed_with_the_right_token(
    server: GrpcServerProcess, seeded: Seeded, transport: str
) -> None:
    results: dict[str, Any] = {}
    with client_for(server, transport, ALICE) as client:
        for key, call in calls(PARENT_A, seeded).items():
            if key == "aiplatform.operations.cancel":
                with pytest.raises(exceptions.BadRequest, match="is not cancellable"):
                    call(client)  # allowed: the operation is done, so it cannot be cancelled
                continue
            results[key] = call(client)
        assert results["aiplatform.customJobs.get"].name == seeded.finished
        assert seeded.finished in [j.name for j in results["aiplatform.customJobs.list"]]
        assert wait_for(client, seeded.running).state == av1.JobState.JOB_STATE_CANCELLED
        if transport == "rest":  # the gRPC mixin hands WaitOperation's answer back undecoded
            assert results["aiplatform.operations.get:wait"].done
        with pytest.raises(exceptions.NotFound):  # it was deleted just now
            client.get_custom_job(name=seeded.finished)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_denial_says_nothing_about_existence(
    server: GrpcServerProcess, seeded: Seeded, transport: str
) -> None:
    missing = f"{PARENT_A}/customJobs/1234567890123456789"
    other_project = seeded.finished.replace(PROJECT_A, "no-such-project")
    messages: list[str] = []
    with client_for(server, transport, BOB) as client:
        for name in (seeded.finished, missing):
            with pytest.raises(REFUSED_403) as refused:
                client.get_custom_job(name=name)
            messages.append(_message(refused.value))
        with pytest.raises(REFUSED_403):
            client.get_custom_job(name=other_project)
        listed = list(client.list_custom_jobs(parent=PARENT_B))  # bob's own project: none of alice's jobs
        assert all(PROJECT_A not in j.name for j in listed)
    assert messages[0] == messages[1]
    with client_for(server, transport, ROOT) as client:  # an admin of every project sees both answers
        assert client.get_custom_job(name=seeded.finished).name == seeded.finished
        with pytest.raises(exceptions.NotFound):
            client.get_custom_job(name=missing)
