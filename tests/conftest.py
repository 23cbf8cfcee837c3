"""Fixtures shared by every suite: real servers started as subprocesses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.ray_cluster import RayCluster, running_cluster
from support.server import ServerProcess


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests on the Ray cluster run last, in their order: the cluster (two raylets, about
    1 GB) starts at the first of them and lives to the end of the session, not through it."""
    items.sort(key=lambda item: bool(item.get_closest_marker("ray")) or "/on_ray/" in item.nodeid)


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
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def node_addresses() -> set[str]:
    """The addresses replicas of the module's `server` run at (tests/on_ray overrides it)."""
    return {"127.0.0.1"}
