"""A container replica runs with its grant: `--cpus`, `--memory`, and no GPU when it asked none.

Read from inside the container (its cgroup files), through a real podman, as in
test_containers.py; podman failing to run is a failure here too, never a skip.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator

import pytest
from google.cloud import aiplatform_v1 as av1

from e2e.vertex import PARENT, job, rest_client, wait_for
from support import podman
from support.server import ServerProcess

pytestmark = pytest.mark.timeout(podman.SETUP_TIMEOUT_S + 120)
SERVER_ARGS = (
    *("--runtime", "podman", "--container-global-flags", shlex.join(podman.GLOBAL_FLAGS)),
    *("--strict-capacity", "--cpus", "2", "--memory-gb", "8"),
)
# cgroup v2 first, then v1: the memory limit in bytes, the CPU quota and period.
PROBE = """
if [ -f /sys/fs/cgroup/memory.max ]
then mem=$(cat /sys/fs/cgroup/memory.max); cpu=$(cat /sys/fs/cgroup/cpu.max)
else mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)
cpu="$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"; fi
echo "memory=$mem"; echo "cpu=$cpu"; echo "gpus=[${CUDA_VISIBLE_DEVICES-unset}]"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("podman-limits")
    try:
        conf = podman.setup(workdir / "containers.conf")
    except podman.PodmanUnavailable as exc:
        pytest.fail(f"podman is needed for the container tests and is not usable: {exc}", pytrace=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CONTAINERS_CONF", conf)
        podman.build_images(workdir)
        srv = ServerProcess(tmp_path_factory.mktemp("limits-server"), *SERVER_ARGS)
        srv.start()
        yield srv
        srv.stop()


def test_a_container_replica_gets_its_machine_types_limits(server: ServerProcess) -> None:
    client = rest_client(server.url)
    spec = av1.WorkerPoolSpec(
        machine_spec=av1.MachineSpec(machine_type="n1-standard-1"),  # 1 vCPU, 3.75 GB
        replica_count=1,
        container_spec=av1.ContainerSpec(image_uri=podman.IMAGE, command=["sh", "-c", PROBE]),
    )
    created = client.create_custom_job(parent=PARENT, custom_job=job("limits", spec))

    done = wait_for(client, created.name, timeout_s=60)

    assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error
    log = (
        server.data_dir / "jobs" / created.name.rsplit("/", 1)[1] / "attempt-1" / "workerpool0-0.log"
    ).read_text()
    assert f"memory={int(3.75 * 1024) * 1024 * 1024}" in log
    assert "cpu=100000 100000" in log
    assert "gpus=[]" in log
    podman.remove_containers_of(created.name.rsplit("/", 1)[1])
