"""containerSpec jobs as podman containers on the Ray nodes (`--backend ray --runtime podman`).

The cluster here is this module's own, started after podman is set up, so its nodes (and
the containers' CLI they run) see the same podman configuration as the tests do.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterator

import pytest
from google.cloud import aiplatform_v1 as av1

from e2e.python_packages import job_log
from e2e.test_containers import podman_ready, sh  # noqa: F401  (podman_ready: the session's podman)
from e2e.vertex import PARENT, job, rest_client, wait_for
from support import podman
from support.ray_cluster import RayCluster, ray_server, running_cluster
from support.server import ServerProcess, wait_processes
from support.terminal import ShellClient, shell_url

pytestmark = [pytest.mark.ray, pytest.mark.timeout(podman.SETUP_TIMEOUT_S + 180)]

# Each side reads the worker's address from CLUSTER_SPEC: a Ray node's address, not loopback.
WORKER_AT = """echo "$CLUSTER_SPEC" | sed 's/.*"workerpool1": \\["\\([0-9.]*\\):\\([0-9]*\\)".*/\\1 \\2/'"""
WORKER = f"""set -- $({WORKER_AT}); echo "worker listening on $1:$2"
nc -l -p "$2" -e sh -c 'read line; echo "worker got: $line" >&2; echo "hello from worker"'"""
PRIMARY = f"""set -- $({WORKER_AT})
until nc "$1" "$2" -e sh -c 'echo "ping from primary"; read reply; echo "primary got: $reply" >&2'
do sleep 0.1; done; echo "primary done" """


@pytest.fixture(scope="module")
def container_cluster(podman_ready: None) -> Iterator[RayCluster]:  # noqa: F811
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def server(
    container_cluster: RayCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    flags = ("--runtime", "podman", "--container-global-flags", shlex.join(podman.GLOBAL_FLAGS))
    srv = ray_server(container_cluster, tmp_path_factory.mktemp("ray-podman"), *flags)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[av1.JobServiceClient]:
    client = rest_client(server.url)
    yield client
    for created in client.list_custom_jobs(parent=PARENT):  # whatever a failed test left behind
        podman.remove_containers_of(created.name.rsplit("/", 1)[1])


def test_containers_on_two_nodes_reach_each_other_over_cluster_spec(
    client: av1.JobServiceClient, server: ServerProcess, container_cluster: RayCluster
) -> None:
    created = client.create_custom_job(parent=PARENT, custom_job=job("talk", sh(PRIMARY), sh(WORKER)))
    done = wait_for(client, created.name, timeout_s=90)
    assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error
    primary, worker = job_log(server.url, done.name), job_log(server.url, done.name, "workerpool1-0")
    assert "primary got: hello from worker" in primary and "primary done" in primary
    assert "worker got: ping from primary" in worker
    listening = worker.split("worker listening on ", 1)[1].split(":", 1)[0]
    assert listening in set(container_cluster.raylet_ips().values())
    assert podman.containers_of(created.name.rsplit("/", 1)[1]) == []


def test_a_failing_container_fails_the_job_with_its_exit_code(client: av1.JobServiceClient) -> None:
    created = client.create_custom_job(
        parent=PARENT, custom_job=job("fails", sh("echo 'bad shard 7'; exit 7"))
    )
    done = wait_for(client, created.name, timeout_s=90)
    assert done.state == av1.JobState.JOB_STATE_FAILED
    assert "The replica workerpool0-0 exited with a non-zero status of 7." in done.error.message
    assert "bad shard 7" in done.error.message


def test_cancel_removes_every_container(client: av1.JobServiceClient) -> None:
    created = client.create_custom_job(
        parent=PARENT, custom_job=job("cancel", sh("sleep 600"), sh("trap '' TERM; sleep 600"))
    )
    job_id = created.name.rsplit("/", 1)[1]
    wait_for(client, created.name, {av1.JobState.JOB_STATE_RUNNING}, timeout_s=90)
    deadline = time.monotonic() + 60
    while len(podman.containers_of(job_id)) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    client.cancel_custom_job(name=created.name)
    done = wait_for(client, created.name, timeout_s=60)
    assert done.state == av1.JobState.JOB_STATE_CANCELLED
    assert podman.containers_of(job_id) == []


def test_an_image_missing_on_the_node_fails_naming_it(client: av1.JobServiceClient) -> None:
    spec = job("no-image", sh("true"))
    spec.job_spec.worker_pool_specs[0].container_spec.image_uri = "localhost/not-here:1"
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    done = wait_for(client, created.name, timeout_s=60)
    assert done.state == av1.JobState.JOB_STATE_FAILED
    assert "localhost/not-here:1 was not found by podman on Ray node" in done.error.message


def test_shell_execs_into_the_replicas_container_on_its_node(
    client: av1.JobServiceClient, server: ServerProcess
) -> None:
    spec = job("cshell", sh("echo ready; sleep 600", env={"INSIDE": "the-container"}), enable_web_access=True)
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    job_id = created.name.rsplit("/", 1)[1]
    wait_for(client, created.name, {av1.JobState.JOB_STATE_RUNNING}, timeout_s=90)
    shell = ShellClient(shell_url(server.url, job_id, "workerpool0-0"))
    try:
        shell.read_until("workerpool0-0$ ")
        shell.send(b"echo inside=$INSIDE; echo pid1=$(tr '\\0' ' ' < /proc/1/cmdline)\n")
        shell.read_until("inside=the-container")
        shell.read_until("pid1=sleep 600")  # pid 1 of the container, not of the node
        shell.send(b"sleep 4734 &\n")
        wait_processes("sleep 4734", True, "the sleep started in the container never ran", 10)
    finally:
        shell.close()
    # Found by the shell's token inside the container, and ended there by the node's host.
    wait_processes("sleep 4734", False, "closing the shell left its process in the container", 15)
    assert client.get_custom_job(name=created.name).state == av1.JobState.JOB_STATE_RUNNING
    client.cancel_custom_job(name=created.name)
    assert wait_for(client, created.name, timeout_s=60).state == av1.JobState.JOB_STATE_CANCELLED
