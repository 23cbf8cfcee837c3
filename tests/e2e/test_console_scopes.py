"""GET /customjobs/v1/scopes, the console's project picker: the scopes that hold jobs, newest
first, and with authentication on only those of projects the caller may list jobs in."""

from __future__ import annotations

from pathlib import Path

import requests

from support.security import (
    ALICE,
    BOB,
    CAROL,
    PROJECT_A,
    PROJECT_B,
    ROOT,
    UNAUTHENTICATED,
    bearer,
    write_auth_files,
)
from support.server import ServerProcess

SCOPES = "/customjobs/v1/scopes"


def create(server: ServerProcess, parent: str, token: str | None = None) -> None:
    body = {
        "displayName": "scoped",
        "jobSpec": {
            "workerPoolSpecs": [
                {
                    "machineSpec": {"machineType": "n1-standard-4"},
                    "replicaCount": "1",
                    "containerSpec": {"imageUri": "local", "command": ["true"]},
                }
            ]
        },
    }
    headers = bearer(token) if token else {}
    response = requests.post(f"{server.url}/v1/{parent}/customJobs", json=body, headers=headers, timeout=10)
    response.raise_for_status()


def scopes(server: ServerProcess, token: str | None = None) -> requests.Response:
    return requests.get(server.url + SCOPES, headers=bearer(token) if token else {}, timeout=10)


def parents(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [scope["parent"] for scope in response.json()["scopes"]]


def test_scopes_with_jobs_newest_first_with_counts(server: ServerProcess) -> None:
    assert parents(scopes(server)) == []
    create(server, "projects/old-proj/locations/us-central1")
    create(server, "projects/old-proj/locations/us-central1")
    create(server, "projects/other-proj/locations/europe-west4")
    body = scopes(server).json()
    assert [(s["project"], s["location"], s["jobCount"]) for s in body["scopes"]] == [
        ("other-proj", "europe-west4", 1),
        ("old-proj", "us-central1", 2),
    ]
    assert body["scopes"][0]["latestCreateTime"] >= body["scopes"][1]["latestCreateTime"]
    refused = requests.get(server.url + SCOPES + "?project=x", timeout=10)
    assert refused.status_code == 400 and refused.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_with_authentication_each_caller_sees_only_its_projects(
    server_factory: type[ServerProcess], tmp_path: Path
) -> None:
    srv = server_factory(None, *write_auth_files(tmp_path / "auth"))
    srv.start()
    parent_a, parent_b = (f"projects/{p}/locations/us-central1" for p in (PROJECT_A, PROJECT_B))
    create(srv, parent_a, ALICE)
    create(srv, parent_b, BOB)
    assert parents(scopes(srv, ALICE)) == parents(scopes(srv, CAROL)) == [parent_a]  # a user, a viewer
    assert parents(scopes(srv, BOB)) == [parent_b]
    assert parents(scopes(srv, ROOT)) == [parent_b, parent_a]
    anonymous = scopes(srv)
    assert (anonymous.status_code, anonymous.json()["error"]["message"]) == (401, UNAUTHENTICATED)
