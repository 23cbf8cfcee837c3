"""The whole Ray cluster goes away under a running job: the server stays up and says so.

A Ray driver whose head (GCS) has died ends its own process after a minute; the server's
driver lives in a child process (execution/backends/ray/bridge.py), so only that child ends. This
test runs its own cluster, since it destroys it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from google.cloud import aiplatform_v1 as av1

from e2e.python_packages import job_log
from e2e.vertex import PARENT, job, pool, rest_client
from support.ray_cluster import RayCluster, ray_server, running_cluster
from support.server import processes_with

GRACE_S = 10
# A Ray process gives up on a dead GCS after gcs_rpc_server_reconnect_timeout_s (60 s by
# default; 10 s here, through Ray's own environment override, for the nodes and the bridge).
RECONNECT_S = 10
# The bridge gives up; then the grace; then a scheduler pass. Nodes end their replicas too.
BOUND_S = 90

pytestmark = pytest.mark.ray


@pytest.fixture
def doomed_cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[RayCluster]:
    # Seen by its raylets, and by the server's bridge (started with this environment too).
    monkeypatch.setenv("RAY_gcs_rpc_server_reconnect_timeout_s", str(RECONNECT_S))
    with running_cluster() as cluster:
        yield cluster


def test_a_lost_cluster_fails_its_jobs_while_the_server_keeps_answering(
    doomed_cluster: RayCluster, tmp_path: Path
) -> None:
    server = ray_server(doomed_cluster, tmp_path / "server", "--ray-unreachable-grace", str(GRACE_S))
    server.start()
    try:
        client = rest_client(server.url)
        marker = f"orphan-{uuid.uuid4().hex[:8]}"  # in the command line of the replica's shell
        script = f"i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done # {marker}"
        created = client.create_custom_job(
            parent=PARENT, custom_job=job("orphaned", pool(["sh", "-c", script]))
        )
        deadline = time.monotonic() + 60
        while "tick 2" not in job_log(server.url, created.name):
            assert time.monotonic() < deadline
            time.sleep(0.2)

        doomed_cluster.kill_head()
        killed = time.monotonic()
        while True:
            done = client.get_custom_job(name=created.name)  # answers all along
            assert server.proc is not None and server.proc.poll() is None, "the server died with the cluster"
            if done.state == av1.JobState.JOB_STATE_FAILED:
                break
            assert time.monotonic() - killed < BOUND_S, done.state.name
            time.sleep(1.0)
        print(f"\nRay head killed: job FAILED after {time.monotonic() - killed:.0f}s (bound {BOUND_S}s)")
        assert done.error.code == 13
        assert "has not answered for" in done.error.message
        # What came home before the loss stays; the replica's process dies with its node.
        assert "tick 2" in requests.get(f"{server.url}/customjobs/v1/{created.name}/logs", timeout=30).text
        while processes_with(marker):
            assert time.monotonic() - killed < BOUND_S, "the replica outlived its node"
            time.sleep(0.5)
    finally:
        server.stop()
