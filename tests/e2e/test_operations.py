"""google.longrunning.Operations for deletes: location-level and nested, under /v1, /v1beta1 and /ui."""

from __future__ import annotations

import pytest
import requests
from google.api_core import exceptions
from google.longrunning import operations_pb2

from e2e.vertex import PARENT, job, pool, rest_client, wait_for
from support.server import ServerProcess

EMPTY = "type.googleapis.com/google.protobuf.Empty"


@pytest.fixture(scope="module")
def deleted(server: ServerProcess) -> tuple[str, str]:
    """(job name, operation name) of a finished job that was deleted."""
    client = rest_client(server.url)
    created = client.create_custom_job(parent=PARENT, custom_job=job("op-target", pool(["true"])))
    wait_for(client, created.name)
    op = client.delete_custom_job(name=created.name)
    op.result(timeout=30)
    return created.name, op.operation.name


def test_operation_is_served_under_every_prefix(server: ServerProcess, deleted: tuple[str, str]) -> None:
    job_name, op_name = deleted
    op_id = op_name.rsplit("/", 1)[1]
    for prefix in ("v1", "ui", "v1beta1"):
        body = requests.get(f"{server.url}/{prefix}/{op_name}").json()
        assert body["name"] == op_name and body["done"] is True
        assert body["response"] == {"@type": EMPTY}
        assert (
            body["metadata"]["@type"]
            == "type.googleapis.com/google.cloud.aiplatform.v1.DeleteOperationMetadata"
        )
        assert body["metadata"]["genericMetadata"]["createTime"].endswith("Z")
    nested = requests.get(f"{server.url}/v1/{job_name}/operations/{op_id}")
    assert nested.status_code == 200 and nested.json()["name"] == op_name
    waited = requests.post(f"{server.url}/v1/{op_name}:wait", params={"timeout": "5s"})
    assert waited.status_code == 200 and waited.json()["done"] is True


def test_list_cancel_and_delete_operation_through_the_client(
    server: ServerProcess, deleted: tuple[str, str]
) -> None:
    client = rest_client(server.url)
    _, op_name = deleted
    listed = client.list_operations(operations_pb2.ListOperationsRequest(name=PARENT))
    assert op_name in [op.name for op in listed.operations]
    assert client.wait_operation(operations_pb2.WaitOperationRequest(name=op_name)).done
    with pytest.raises(exceptions.BadRequest, match="is not cancellable"):
        client.cancel_operation(operations_pb2.CancelOperationRequest(name=op_name))
    client.delete_operation(operations_pb2.DeleteOperationRequest(name=op_name))
    with pytest.raises(exceptions.NotFound):
        client.get_operation(operations_pb2.GetOperationRequest(name=op_name))


def test_unknown_operation_is_not_found(server: ServerProcess) -> None:
    response = requests.get(f"{server.url}/ui/{PARENT}/operations/1234567890123456789")
    assert response.status_code == 404 and response.json()["error"]["status"] == "NOT_FOUND"
