"""containerSpec jobs in real podman containers, through the official Vertex client.

The server runs with `--runtime podman`; images are built locally from busybox (no
registry is reachable). If podman cannot be installed or run, these tests fail saying
why: a container runtime that silently is not tested is not tested.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from google.cloud import aiplatform_v1 as av1

from e2e.vertex import PARENT, job, rest_client, wait_for
from support import podman
from support.server import ServerProcess

# The first test may wait for scripts/setup-podman.sh to install podman on a clean machine.
pytestmark = pytest.mark.timeout(podman.SETUP_TIMEOUT_S + 120)
SERVER_ARGS = ("--runtime", "podman", "--container-global-flags", shlex.join(podman.GLOBAL_FLAGS))
# The worker reads its own port from CLUSTER_SPEC; the primary reads the worker's and connects.
# `nc -e` hands the socket to a shell on each side: busybox nc exits as soon as its stdin
# ends, so piping into it could close the connection before the other side has spoken.
WORKER_PORT = """sed 's/.*"workerpool1": \\["127.0.0.1:\\([0-9]*\\)".*/\\1/'"""
WORKER = f"""port=$(echo "$CLUSTER_SPEC" | {WORKER_PORT}); echo "worker listening on $port"
nc -l -p "$port" -e sh -c 'read line; echo "worker got: $line" >&2; echo "hello from worker"'
echo "worker done" """
PRIMARY = f"""port=$(echo "$CLUSTER_SPEC" | {WORKER_PORT})
until nc 127.0.0.1 "$port" -e sh -c 'echo "ping from primary"; read reply; echo "primary got: $reply" >&2'
do sleep 0.1; done; echo "primary done" """
COUNTER = 'i=0; while [ $i -lt 60 ]; do echo "line $i"; i=$((i+1)); sleep 0.05; done'


def cpool(
    command: list[str],
    replicas: int = 1,
    env: dict[str, str] | None = None,
    image: str = podman.IMAGE,
    args: list[str] | None = None,
) -> av1.WorkerPoolSpec:
    return av1.WorkerPoolSpec(
        machine_spec=av1.MachineSpec(machine_type="n1-standard-4"),
        replica_count=replicas,
        container_spec=av1.ContainerSpec(
            image_uri=image,
            command=command,
            args=args or [],
            env=[av1.EnvVar(name=k, value=v) for k, v in (env or {}).items()],
        ),
    )


def sh(script: str, env: dict[str, str] | None = None) -> av1.WorkerPoolSpec:
    return cpool(["sh", "-c", script], env=env)


@pytest.fixture(scope="session")
def podman_ready(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    workdir = tmp_path_factory.mktemp("podman")
    try:
        conf = podman.setup(workdir / "containers.conf")
        with pytest.MonkeyPatch.context() as patch:
            # Podman (the tests' and the server's) reads its containers.conf from here.
            patch.setenv("CONTAINERS_CONF", conf)
            podman.build_images(workdir)
            yield
    except podman.PodmanUnavailable as exc:
        pytest.fail(f"podman is needed for the container tests and is not usable: {exc}", pytrace=False)


@pytest.fixture(scope="module")
def server(podman_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("container-server"), *SERVER_ARGS)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[av1.JobServiceClient]:
    client = rest_client(server.url)
    yield client
    for created in client.list_custom_jobs(parent=PARENT):  # whatever a failed test left behind
        podman.remove_containers_of(job_id(created))


def job_id(created: av1.CustomJob) -> str:
    return created.name.rsplit("/", 1)[1]


def logs(server: ServerProcess, name: str, replica: str = "workerpool0-0") -> str:
    response = requests.get(
        f"{server.url}/customjobs/v1/{name}/logs", params={"replica": replica}, timeout=30
    )
    response.raise_for_status()
    return response.text


def test_two_replicas_reach_each_other_over_cluster_spec(
    client: av1.JobServiceClient, server: ServerProcess
) -> None:
    created = client.create_custom_job(parent=PARENT, custom_job=job("talk", sh(PRIMARY), sh(WORKER)))
    done = wait_for(client, created.name, timeout_s=60)
    assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error
    primary, worker = logs(server, created.name), logs(server, created.name, "workerpool1-0")
    assert "primary got: hello from worker" in primary and "primary done" in primary
    assert "worker listening on" in worker and "worker got: ping from primary" in worker
    assert podman.containers_of(job_id(created)) == []


def test_job_environment_and_output_directory_reach_the_container(
    client: av1.JobServiceClient, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    script = 'env > "$AIP_MODEL_DIR/env.txt"'
    spec = job(
        "env",
        sh(script, env={"GREETING": "hello from $(CLOUD_ML_PROJECT_ID)"}),
        base_output_directory=av1.GcsDestination(output_uri_prefix=f"file://{out}"),
    )
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    done = wait_for(client, created.name, timeout_s=60)
    assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error
    env = dict(
        line.split("=", 1) for line in (out / "model" / "env.txt").read_text().splitlines() if "=" in line
    )
    assert env["GREETING"] == "hello from test-project"
    assert env["CLOUD_ML_JOB_ID"] == job_id(created)
    assert env["CLUSTER_SPEC"].startswith('{"cluster": {"workerpool0": ["127.0.0.1:')
    assert env["AIP_MODEL_DIR"] == f"{out}/model/"
    # The job's environment, not the server's: podman's own settings stay outside.
    assert "CONTAINERS_CONF" not in env


def test_command_replaces_the_entrypoint_and_args_replace_cmd(
    client: av1.JobServiceClient, server: ServerProcess
) -> None:
    image = podman.ENTRYPOINT_IMAGE
    spec = job(
        "entrypoints",
        sh("sleep 1; echo primary"),
        cpool([], image=image, args=["only", "args"]),
        cpool(["/bin/echo", "only-command"], image=image),
        cpool([], image=image),
    )
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    done = wait_for(client, created.name, timeout_s=60)
    assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error
    assert logs(server, created.name, "workerpool1-0").strip() == "from-entrypoint only args"
    assert logs(server, created.name, "workerpool2-0").strip() == "only-command"
    assert logs(server, created.name, "workerpool3-0").strip() == "from-entrypoint from-cmd"


def test_failing_container_fails_the_job_with_its_exit_code_and_log(client: av1.JobServiceClient) -> None:
    script = "echo loading data; echo bad shard 7 >&2; exit 3"
    created = client.create_custom_job(parent=PARENT, custom_job=job("fails", sh(script)))
    done = wait_for(client, created.name, timeout_s=60)
    assert done.state == av1.JobState.JOB_STATE_FAILED
    assert "The replica workerpool0-0 exited with a non-zero status of 3." in done.error.message
    assert "loading data" in done.error.message and "bad shard 7" in done.error.message
    assert podman.containers_of(job_id(created)) == []


def test_cancel_stops_and_removes_every_container(client: av1.JobServiceClient) -> None:
    spec = job("cancel-me", cpool(["sleep", "600"]), cpool(["sleep", "600"], replicas=2))
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    wait_for(client, created.name, {av1.JobState.JOB_STATE_RUNNING}, timeout_s=60)
    assert len(podman.containers_of(job_id(created))) == 3

    started = time.monotonic()
    client.cancel_custom_job(name=created.name)
    done = wait_for(client, created.name, timeout_s=30)
    assert done.state == av1.JobState.JOB_STATE_CANCELLED
    # `sleep` as PID 1 ignores SIGTERM: the grace period (3 s here), then SIGKILL.
    assert time.monotonic() - started < 10
    assert podman.containers_of(job_id(created)) == []


def test_timeout_inside_a_container_is_deadline_exceeded(client: av1.JobServiceClient) -> None:
    spec = job("slow", cpool(["sleep", "600"]), scheduling=av1.Scheduling(timeout={"seconds": 1}))
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    done = wait_for(client, created.name, timeout_s=30)
    assert done.state == av1.JobState.JOB_STATE_FAILED
    assert done.error.code == 4
    assert "timeout of 1s" in done.error.message
    assert podman.containers_of(job_id(created)) == []


def test_missing_image_fails_the_job_naming_the_image(client: av1.JobServiceClient) -> None:
    image = "localhost/customjobs-test:does-not-exist"
    created = client.create_custom_job(parent=PARENT, custom_job=job("noimage", cpool(["true"], image=image)))
    done = wait_for(client, created.name, timeout_s=30)
    assert done.state == av1.JobState.JOB_STATE_FAILED
    assert image in done.error.message and "not found locally" in done.error.message
    assert done.error.code == 3


def test_container_job_survives_kill9_of_the_server_with_its_whole_log(
    podman_ready: None, server_factory: type[ServerProcess]
) -> None:
    first = server_factory(None, *SERVER_ARGS)
    first.start()
    client = rest_client(first.url)
    created = client.create_custom_job(parent=PARENT, custom_job=job("survivor", sh(COUNTER)))
    try:
        wait_for(client, created.name, {av1.JobState.JOB_STATE_RUNNING}, timeout_s=60)
        time.sleep(0.5)
        first.kill9()
        time.sleep(1.0)  # the container keeps writing while no server runs

        second = server_factory(first.data_dir, *SERVER_ARGS)
        second.start()
        client = rest_client(second.url)
        done = wait_for(client, created.name, timeout_s=60)
        assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error
        assert logs(second, created.name).splitlines() == [f"line {i}" for i in range(60)]
        assert podman.containers_of(job_id(created)) == []
    finally:
        podman.remove_containers_of(job_id(created))
