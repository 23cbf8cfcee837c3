"""pythonPackageSpec and /gcs inside containers: the package is installed and run in the executor image.

The executor image here is the busybox test image with the host's Debian Python (and its
pip) bind-mounted read-only through the server's --container-run-flags: no registry is
reachable, so no prebuilt Vertex image can be pulled.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.cloud import aiplatform_v1 as av1

from e2e.python_packages import build_sdist, job_log, upload
from e2e.test_containers import podman_ready  # noqa: F401  (the session fixture that sets podman up)
from e2e.vertex import PARENT, job, rest_client, wait_for
from support import podman
from support.server import ServerProcess

pytestmark = pytest.mark.timeout(podman.SETUP_TIMEOUT_S + 180)
HOST_PYTHON_MOUNTS = " ".join(
    f"--volume={path}:{path}:ro" for path in ("/usr", "/lib64", "/lib", "/etc/ld.so.cache")
)
TRAINER = """
import os, sys
print("trainer args:", sys.argv[1:])
print("gcs has:", sorted(os.listdir("/gcs/pkgs")))
print("storage at:", os.environ["STORAGE_EMULATOR_HOST"])
"""


@pytest.fixture(scope="module")
def server(podman_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:  # noqa: F811
    args = (
        "--runtime",
        "podman",
        "--container-global-flags",
        shlex.join(podman.GLOBAL_FLAGS),
        "--container-run-flags",
        HOST_PYTHON_MOUNTS,
    )
    srv = ServerProcess(tmp_path_factory.mktemp("container-packages"), *args)
    srv.start()
    yield srv
    srv.stop()


def test_python_package_runs_inside_the_executor_image(server: ServerProcess, tmp_path: Path) -> None:
    sdist = build_sdist(tmp_path, "ctrainer", {"task.py": TRAINER})
    upload(server.url, sdist, "gs://pkgs/ctrainer-0.1.tar.gz")
    pool = av1.WorkerPoolSpec(
        machine_spec=av1.MachineSpec(machine_type="n1-standard-4"),
        replica_count=1,
        python_package_spec=av1.PythonPackageSpec(
            executor_image_uri=podman.IMAGE,
            package_uris=["gs://pkgs/ctrainer-0.1.tar.gz"],
            python_module="ctrainer.task",
            args=["--epochs", "2 words"],
        ),
    )
    client = rest_client(server.url)
    created = client.create_custom_job(parent=PARENT, custom_job=job("pkg-in-container", pool))
    done = wait_for(client, created.name, timeout_s=120)
    text = job_log(server.url, created.name)
    assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, (done.error.message, text)
    assert "installing the job's Python packages in the executor image" in text
    assert "trainer args: ['--epochs', '2 words']" in text
    assert "gcs has: ['ctrainer-0.1.tar.gz']" in text
    assert f"storage at: {server.url}" in text
