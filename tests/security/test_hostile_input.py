"""Hostile input: body and string limits, path traversal, argument vectors, no stack traces.

Against a server with authentication on (so package URIs and output directories are
checked as a multi-tenant server checks them) and a small body limit.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from support.security import ALICE, PARENT_A, ROOT, bearer, write_auth_files
from support.server import ServerProcess

LIMIT_BYTES = 64 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("hostile")
    srv = ServerProcess(
        root / "server", *write_auth_files(root / "auth"), "--max-request-bytes", str(LIMIT_BYTES)
    )
    srv.start()
    yield srv
    srv.stop()
    assert "Traceback" not in srv.log_path.read_text()


def well_formed_error(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert "Traceback" not in response.text and 'File "' not in response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == status and error["message"]
    return error


def job_body(command: list[str], **spec: Any) -> dict[str, Any]:
    pool = {
        "machineSpec": {"machineType": "n1-standard-1"},
        "replicaCount": "1",
        "containerSpec": {"imageUri": "local", "command": command},
    }
    return {"displayName": "hostile", "jobSpec": {"workerPoolSpecs": [pool], **spec}}


def post_job(server: ServerProcess, body: Any, token: str = ALICE, **kwargs: Any) -> requests.Response:
    return requests.post(
        f"{server.url}/v1/{PARENT_A}/customJobs", json=body, headers=bearer(token), timeout=30, **kwargs
    )


def test_request_bodies_over_the_limit(server: ServerProcess) -> None:
    big = job_body(["true", "x" * LIMIT_BYTES])
    error = well_formed_error(post_job(server, big), 400)
    assert error["message"] == f"Request payload size exceeds the limit: {LIMIT_BYTES} bytes."

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it is read
        yield b'{"displayName": "'
        for _ in range(LIMIT_BYTES // 1024 + 1):
            yield b"x" * 1024
        yield b'"}'

    streamed = requests.post(
        f"{server.url}/v1/{PARENT_A}/customJobs", data=chunks(), headers=bearer(ALICE), timeout=30
    )
    assert well_formed_error(streamed, 400)["status"] == "INVALID_ARGUMENT"


def test_string_limits_of_names_and_fields(server: ServerProcess) -> None:
    long_project = "p" * 129
    for path in (
        f"/v1/projects/{long_project}/locations/us-central1/customJobs",
        f"/v1/projects/team-a/locations/{'l' * 65}/customJobs",
        f"/v1/{PARENT_A}/customJobs/{'9' * 40}",
    ):
        well_formed_error(requests.get(server.url + path, headers=bearer(ROOT), timeout=30), 400)
    too_long = job_body(["true"])
    too_long["displayName"] = "d" * 129
    too_long["labels"] = {"k" * 64: "v"}
    error = well_formed_error(post_job(server, too_long), 400)
    assert "display_name" in error["message"] and "labels" in error["message"]
    nested = b'{"displayName": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    response = requests.post(
        f"{server.url}/v1/{PARENT_A}/customJobs", data=nested, headers=bearer(ALICE), timeout=30
    )
    well_formed_error(response, 400)
    deep_filter = "(" * 2000 + 'display_name="a"' + ")" * 2000
    listed = requests.get(
        f"{server.url}/v1/{PARENT_A}/customJobs",
        params={"filter": deep_filter},
        headers=bearer(ALICE),
        timeout=30,
    )
    assert listed.status_code in (200, 400), listed.text[:300]
    token = requests.get(
        f"{server.url}/v1/{PARENT_A}/customJobs", params={"pageToken": "W" * 4000}, headers=bearer(ALICE)
    )
    well_formed_error(token, 400)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/projects/..%2F..%2Fetc/locations/x/customJobs/1",
        "/v1/projects/team-a/locations/us-central1/customJobs/..%2F..%2Fetc%2Fpasswd",
        "/v1/projects/team-a/locations/us-central1/customJobs/%2e%2e",
        "/customjobs/v1/projects/team-a/locations/us-central1/customJobs/..%2F1/logs",
        "/ui/projects/team-a/locations/us-central1/operations/..%2F..%2Fx",
    ],
)
def test_traversal_through_resource_names(server: ServerProcess, path: str) -> None:
    response = requests.get(server.url + path, headers=bearer(ROOT), timeout=30)
    assert response.status_code in (400, 404), response.text
    assert "root:" not in response.text


@pytest.mark.parametrize(
    "replica",
    ["../../../../etc/passwd", "workerpool0-0/../../x", "workerpool0-0.log", "%2e%2e", "workerpool9-0"],
)
def test_traversal_through_log_parameters(server: ServerProcess, replica: str) -> None:
    made = post_job(server, job_body(["true"]))
    name = made.json()["name"]
    response = requests.get(
        f"{server.url}/customjobs/v1/{name}/logs",
        params={"replica": replica},
        headers=bearer(ALICE),
        timeout=30,
    )
    assert response.status_code in (200, 400) and "root:" not in response.text
    if response.status_code == 200:
        assert response.text == ""


@pytest.mark.parametrize(
    "object_path",
    [
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "a%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "%2Fetc%2Fpasswd",
        "a%2F%2Fb",
        "a%00b",
    ],
)
def test_traversal_through_bucket_paths(server: ServerProcess, object_path: str) -> None:
    created = requests.post(
        f"{server.url}/storage/v1/b?project=team-a", json={"name": "hostile-bucket"}, headers=bearer(ALICE)
    )
    assert created.status_code in (200, 409)
    for url in (
        f"{server.url}/storage/v1/b/hostile-bucket/o/{object_path}?alt=media",
        f"{server.url}/upload/storage/v1/b/hostile-bucket/o?uploadType=media&name={object_path}",
    ):
        response = requests.request(
            "GET" if "alt=media" in url else "POST", url, headers=bearer(ALICE), data=b"x", timeout=30
        )
        assert response.status_code in (400, 404), response.text
        assert "root:" not in response.text and response.json()["error"]["errors"]
    bucket = requests.get(f"{server.url}/storage/v1/b/..%2F..%2Fetc/o", headers=bearer(ROOT), timeout=30)
    assert bucket.status_code in (400, 404)


def test_package_uris_and_output_directories_outside_the_callers_buckets(server: ServerProcess) -> None:
    pool = {
        "machineSpec": {"machineType": "n1-standard-1"},
        "replicaCount": "1",
        "pythonPackageSpec": {
            "executorImageUri": "local",
            "packageUris": ["/etc/passwd", "file:///etc/shadow", "gs://x/../../etc/passwd"],
            "pythonModule": "trainer.task",
        },
    }
    body = {
        "displayName": "steal",
        "jobSpec": {"workerPoolSpecs": [pool], "baseOutputDirectory": {"outputUriPrefix": "/etc"}},
    }
    error = well_formed_error(post_job(server, body), 400)
    for field in ("package_uris[0]", "package_uris[1]", "base_output_directory.output_uri_prefix"):
        assert field in error["message"], field
    requests.post(
        f"{server.url}/storage/v1/b?project=team-b", json={"name": "bobs-bucket"}, headers=bearer(ROOT)
    )
    for spec in ({"baseOutputDirectory": {"outputUriPrefix": "gs://bobs-bucket/out"}},):
        refused = post_job(server, job_body(["true"], **spec))
        assert well_formed_error(refused, 403)["status"] == "PERMISSION_DENIED"
    pool["pythonPackageSpec"]["packageUris"] = ["gs://bobs-bucket/trainer.tar.gz"]  # type: ignore[index]
    body["jobSpec"] = {"workerPoolSpecs": [pool]}
    assert "storage.objects.get" in well_formed_error(post_job(server, body), 403)["message"]


def test_commands_are_argument_vectors(server: ServerProcess, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    command = ["echo", f"$(touch {marker})", ";", f"touch {marker}", "|", "`id`"]
    made = post_job(server, job_body(command))
    name = made.json()["name"]
    deadline = time.monotonic() + 60
    while (
        requests.get(f"{server.url}/v1/{name}", headers=bearer(ALICE)).json()["state"]
        != "JOB_STATE_SUCCEEDED"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    logs = requests.get(f"{server.url}/customjobs/v1/{name}/logs", headers=bearer(ALICE)).text
    assert f"$(touch {marker}) ; touch {marker} | `id`" in logs
    assert not marker.exists()


def test_no_stack_trace_in_any_answer(server: ServerProcess) -> None:
    odd = [
        ("POST", f"/v1/{PARENT_A}/customJobs", b"\xff\xfe not json"),
        ("POST", f"/v1/{PARENT_A}/customJobs", b"[]"),
        ("POST", f"/v1/{PARENT_A}/customJobs", b'{"jobSpec": {"workerPoolSpecs": "x"}}'),
        ("POST", "/v2/entries:list", b'{"resourceNames": "projects/team-a", "pageSize": "many"}'),
        ("POST", "/v2/entries:list", b'{"resourceNames": ["projects/team-a"], "filter": "((("}'),
        ("GET", f"/v1/{PARENT_A}/customJobs?pageSize=-1&readMask=%00", b""),
        ("DELETE", f"/v1/{PARENT_A}/customJobs/0", b""),
    ]
    for method, path, data in odd:
        response = requests.request(method, server.url + path, data=data, headers=bearer(ROOT), timeout=30)
        assert 400 <= response.status_code < 500, (path, response.text)
        well_formed_error(response, response.status_code)
