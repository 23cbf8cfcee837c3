"""The CLI's API client against a scripted transport: names, paging, error envelopes, operations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from customjobs.cli import render
from customjobs.cli.errors import ApiError, CommandError
from customjobs.cli.http import ApiClient, job_state, normalise_endpoint

PARENT = "projects/p/locations/europe-west4"


def client(handler: Callable[[httpx.Request], httpx.Response]) -> ApiClient:
    return ApiClient("127.0.0.1:9/", "p", "europe-west4", transport=httpx.MockTransport(handler))


def test_endpoints_are_normalised() -> None:
    assert normalise_endpoint("127.0.0.1:8080") == "http://127.0.0.1:8080"
    assert normalise_endpoint("http://h:1/prefix/") == "http://h:1/prefix"


def test_bare_ids_and_full_names() -> None:
    api = client(lambda _: httpx.Response(200))
    assert api.job_name("123") == f"{PARENT}/customJobs/123"
    assert api.job_name("projects/o/locations/l/customJobs/9") == "projects/o/locations/l/customJobs/9"
    with pytest.raises(CommandError, match=r"Invalid job \[a/b\]"):
        api.job_name("a/b")


def test_error_envelope_becomes_status_and_message() -> None:
    body = {"error": {"code": 404, "message": "The CustomJob x does not exist.", "status": "NOT_FOUND"}}
    api = client(lambda _: httpx.Response(404, json=body))
    with pytest.raises(ApiError) as caught:
        api.get(f"{PARENT}/customJobs/1")
    assert str(caught.value) == "NOT_FOUND: The CustomJob x does not exist."
    assert caught.value.http_status == 404


def test_error_without_envelope_keeps_the_http_status() -> None:
    api = client(lambda _: httpx.Response(502, text="bad gateway"))
    with pytest.raises(ApiError, match=r"^HTTP 502: bad gateway$"):
        api.get(f"{PARENT}/customJobs/1")


def test_list_follows_page_tokens_and_stops_at_the_limit() -> None:
    seen: list[dict[str, str]] = []
    pages: dict[str, dict[str, Any]] = {
        "": {"customJobs": [{"name": "a"}, {"name": "b"}], "nextPageToken": "t1"},
        "t1": {"customJobs": [{"name": "c"}], "nextPageToken": "t2"},
        "t2": {"customJobs": [{"name": "d"}]},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == f"/v1/{PARENT}/customJobs"
        seen.append(dict(request.url.params))
        return httpx.Response(200, json=pages[request.url.params.get("pageToken", "")])

    api = client(handler)
    assert [j["name"] for j in api.list('state="JOB_STATE_RUNNING"', page_size=2)] == ["a", "b", "c", "d"]
    assert seen[1] == {"filter": 'state="JOB_STATE_RUNNING"', "pageSize": "2", "pageToken": "t1"}
    seen.clear()
    assert [j["name"] for j in api.list(limit=3)] == ["a", "b", "c"]
    assert len(seen) == 2


def test_delete_polls_the_operation_until_done() -> None:
    calls: list[str] = []
    op = f"{PARENT}/operations/7"

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        if request.method == "DELETE":
            return httpx.Response(200, json={"name": op, "done": False})
        return httpx.Response(200, json={"name": op, "done": len(calls) > 2, "response": {}})

    client(handler).delete(f"{PARENT}/customJobs/1")
    assert calls == [f"DELETE /v1/{PARENT}/customJobs/1", f"GET /v1/{op}", f"GET /v1/{op}"]


def test_failed_delete_operation_raises_its_error() -> None:
    failed = {
        "name": "op",
        "done": True,
        "error": {"code": 9, "status": "FAILED_PRECONDITION", "message": "busy"},
    }
    with pytest.raises(ApiError, match=r"^FAILED_PRECONDITION: busy$"):
        client(lambda _: httpx.Response(200, json=failed)).delete(f"{PARENT}/customJobs/1")


def test_unreachable_server_is_a_clean_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    with pytest.raises(CommandError, match=r"Cannot reach the server at http://127.0.0.1:9"):
        client(refuse).get(f"{PARENT}/customJobs/1")


def test_states_may_be_names_or_numbers() -> None:
    assert job_state({"state": "JOB_STATE_RUNNING"}) == "JOB_STATE_RUNNING"
    assert job_state({"state": 4}) == "JOB_STATE_SUCCEEDED"
    assert job_state({}) == "JOB_STATE_UNSPECIFIED"


def test_table_rows_and_durations() -> None:
    job = {
        "name": f"{PARENT}/customJobs/42",
        "displayName": "train",
        "state": "JOB_STATE_SUCCEEDED",
        "createTime": "2026-01-02T03:04:05.123456789Z",
        "startTime": "2026-01-02T03:04:06Z",
        "endTime": "2026-01-02T03:06:11.5Z",
    }
    row = render.job_row(job)
    assert row[:3] == ("42", "train", "SUCCEEDED") and row[4] == "2m 05s"
    running = {"state": "JOB_STATE_RUNNING", "startTime": "2026-01-02T03:04:06Z"}
    assert render.job_duration(running, datetime(2026, 1, 2, 3, 4, 10, tzinfo=UTC)) == "4.0s"
    assert render.job_duration({"state": "JOB_STATE_PENDING"}) == "-"
    assert render.format_duration(7400) == "2h 03m"
    assert render.plain_table(("A", "BB"), [("xyz", "1")]) == "A    BB\nxyz  1\n"
