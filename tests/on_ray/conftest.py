"""tests/on_ray: the same jobs, through the same clients, on a real two-node Ray cluster.

This folder's `server` is `customjobs serve --backend ray` against the session's cluster
(tests/support/ray_cluster.py), so test modules here run suites of tests/e2e unchanged
(they import the test functions, whose `server` and `node_addresses` fixtures resolve to
the ones below) and add what only a cluster has: nodes that die, replicas on two nodes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from e2e import sdk_scenarios, test_cli, test_gcloud
from e2e.vertex import PARENT
from support.cleanup import cancel_all
from support.ray_cluster import RayCluster, ray_server
from support.server import ServerProcess

# Where the suites run here create their jobs.
PARENTS = (
    PARENT,
    f"projects/{sdk_scenarios.PROJECT}/locations/{sdk_scenarios.LOCATION}",
    f"projects/{test_cli.PROJECT}/locations/{test_cli.REGION}",
    f"projects/{test_gcloud.PROJECT}/locations/{test_gcloud.REGION}",
)


@pytest.fixture(scope="module")
def server(ray_cluster: RayCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ray_server(ray_cluster, tmp_path_factory.mktemp("ray-server"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def node_addresses(ray_cluster: RayCluster) -> set[str]:
    return set(ray_cluster.raylet_ips().values())


@pytest.fixture(autouse=True)
def nothing_left_running(request: pytest.FixtureRequest) -> Iterator[None]:
    """The cluster is shared: a job a failed test left running would hold its placement group
    and starve the next tests' gangs. Cancelled here, so one failure stays one failure."""
    yield
    if "server" in request.fixturenames:
        server: ServerProcess = request.getfixturevalue("server")
        for parent in PARENTS:
            cancel_all(server.url, parent)
