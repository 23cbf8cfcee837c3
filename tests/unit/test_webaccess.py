"""webAccessUris, the dashboard port in the primary's environment, and who may open a shell."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from customjobs.api.rest.local_only import refusal
from customjobs.domain.spec import LaunchSpec, PoolSpec
from customjobs.execution.environment import plan_replicas
from customjobs.webaccess.uris import web_access_uris

URL = "http://127.0.0.1:8080"


def _pool(index: int, replicas: int) -> PoolSpec:
    return PoolSpec(index, replicas, "n1-standard-4", "local/python", ("true",), (), ())


def test_one_shell_uri_per_replica_of_every_pool() -> None:
    spec = LaunchSpec(pools=(_pool(0, 1), _pool(2, 2)), enable_web_access=True)
    assert web_access_uris(URL, 7, spec) == {
        "workerpool0-0": f"{URL}/customjobs/shell/7/workerpool0-0",
        "workerpool2-0": f"{URL}/customjobs/shell/7/workerpool2-0",
        "workerpool2-1": f"{URL}/customjobs/shell/7/workerpool2-1",
    }


def test_dashboard_uri_names_the_primary_and_nothing_without_flags() -> None:
    spec = LaunchSpec(pools=(_pool(0, 1), _pool(1, 1)), enable_dashboard_access=True)
    assert web_access_uris(URL, 7, spec) == {"workerpool0-0:dashboard": f"{URL}/customjobs/dashboard/7/"}
    assert web_access_uris(URL, 7, LaunchSpec(pools=(_pool(0, 1),))) == {}


def test_only_the_primary_gets_the_dashboard_port() -> None:
    spec = LaunchSpec(pools=(_pool(0, 1), _pool(1, 2)), enable_dashboard_access=True)
    hosts = {"workerpool0-0": "127.0.0.1:1", "workerpool1-0": "127.0.0.1:2", "workerpool1-1": "127.0.0.1:3"}
    plans = {p.name: p.env for p in plan_replicas(spec, 7, "p", hosts, dashboard_port=4242)}
    assert plans["workerpool0-0"]["AIP_HTTP_HANDLER_PORT"] == "4242"
    assert "AIP_HTTP_HANDLER_PORT" not in plans["workerpool1-0"]
    assert all("AIP_HTTP_HANDLER_PORT" not in p.env for p in plan_replicas(spec, 7, "p", hosts))


def _request(client: str, host: str, origin: str | None = None) -> Request:
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": headers}
    scope["client"] = (client, 50000)
    return Request(scope)


@pytest.mark.parametrize(
    ("client", "host", "origin"),
    [
        ("127.0.0.1", "127.0.0.1:8080", None),
        ("127.0.0.1", "localhost:8080", "http://localhost:8080"),
        ("::1", "[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_this_machine_may_open_a_shell(client: str, host: str, origin: str | None) -> None:
    assert refusal(_request(client, host, origin)) is None


@pytest.mark.parametrize(
    ("client", "host", "origin", "why"),
    [
        ("10.1.2.3", "127.0.0.1:8080", None, "loopback interface"),
        ("127.0.0.1", "attacker.example:8080", None, "loopback address"),
        ("127.0.0.1", "127.0.0.1:8080", "http://attacker.example", "another site"),
        ("127.0.0.1", "127.0.0.1:8080", "http://127.0.0.1:9999", "another site"),
    ],
)
def test_others_may_not(client: str, host: str, origin: str | None, why: str) -> None:
    problem = refusal(_request(client, host, origin))
    assert problem is not None and why in problem
