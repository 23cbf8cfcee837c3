"""Web access into a podman container replica: `exec` into its container, over the shell's WebSocket.

Podman comes from scripts/setup-podman.sh and the image is the tests' busybox (support/podman.py).
Closing the shell must end what it started inside the container too: those processes are
children of the container runtime, not of the server, and are found by the shell's token.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator

import pytest
from google.cloud import aiplatform_v1 as av1

from e2e.vertex import PARENT, job, rest_client, wait_for
from support import podman
from support.server import ServerProcess, wait_processes
from support.terminal import ShellClient, shell_url

pytestmark = pytest.mark.timeout(podman.SETUP_TIMEOUT_S + 120)
SERVER_ARGS = (
    "--runtime",
    "podman",
    "--container-global-flags",
    shlex.join(podman.GLOBAL_FLAGS),
    "--cpus",
    "64",
    "--memory-gb",
    "256",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("podman-shell")
    try:
        conf = podman.setup(workdir / "containers.conf")
    except podman.PodmanUnavailable as exc:
        pytest.fail(f"podman is needed for the container shell test and is not usable: {exc}", pytrace=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CONTAINERS_CONF", conf)
        podman.build_images(workdir)
        srv = ServerProcess(workdir / "server", *SERVER_ARGS)
        srv.start()
        yield srv
        srv.stop()


def test_shell_execs_into_the_replicas_container(server: ServerProcess) -> None:
    client = rest_client(server.url)
    pool = av1.WorkerPoolSpec(
        machine_spec=av1.MachineSpec(machine_type="n1-standard-4"),
        replica_count=1,
        container_spec=av1.ContainerSpec(
            image_uri=podman.IMAGE,
            command=["sh", "-c", "echo ready; sleep 600"],
            env=[av1.EnvVar(name="INSIDE", value="the-container")],
        ),
    )
    created = client.create_custom_job(parent=PARENT, custom_job=job("cshell", pool, enable_web_access=True))
    job_id = created.name.rsplit("/", 1)[1]
    try:
        wait_for(client, created.name, {av1.JobState.JOB_STATE_RUNNING}, timeout_s=60)
        shell = ShellClient(shell_url(server.url, job_id, "workerpool0-0"))
        try:
            shell.read_until("workerpool0-0$ ")
            shell.send(b"echo inside=$INSIDE; echo pid1=$(tr '\\0' ' ' < /proc/1/cmdline)\n")
            shell.read_until("inside=the-container")
            shell.read_until("pid1=sleep 600")  # pid 1 of the container, not of the host
            shell.send(b"echo $CLUSTER_SPEC\n")
            shell.read_until('"workerpool0"')
            shell.send(b"sleep 4733 &\n")
            wait_processes("sleep 4733", True, "the sleep started in the container never ran", 10)
        finally:
            shell.close()
        wait_processes("sleep 4733", False, "closing the shell left its process in the container", 15)
        assert client.get_custom_job(name=created.name).state == av1.JobState.JOB_STATE_RUNNING
        client.cancel_custom_job(name=created.name)
        assert wait_for(client, created.name, timeout_s=60).state == av1.JobState.JOB_STATE_CANCELLED
    finally:
        podman.remove_containers_of(job_id)
