"""Fixtures shared by every suite: real servers started as subprocesses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.ray_cluster import RayCluster
from support.server import ServerProcess


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[type[ServerProcess]]:
    started: list[ServerProcess] = []

    class Factory(ServerProcess):
        def __init__(self, data_dir: Path | None = None, *extra: str) -> None:
            super().__init__(data_dir or tmp_path / f"server{len(started)}", *extra)
            started.append(self)

    yield Factory
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("server"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    """A real two-node Ray cluster (head + worker, each its own `ray start`), for the session."""
    cluster = RayCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def node_addresses() -> set[str]:
    """The addresses replicas of the module's `server` run at (tests/on_ray overrides it)."""
    return {"127.0.0.1"}
