"""pythonPackageSpec on the process runtime: an sdist from a gs:// bucket, installed once, reused.

The same package runs twice: the first replica builds its environment, the second finds
it cached (its log says so) and so its module starts sooner after the job is RUNNING. The
times are printed, not asserted. A package whose dependency cannot be installed fails its
job with pip's own error in the job's error message. Three replicas starting together
build the environment once (a file lock) and the other two reuse it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.cloud import aiplatform_v1 as av1

from e2e.python_packages import build_sdist, job_log, package_pool, upload
from e2e.vertex import PARENT, job, rest_client, wait_for
from support.server import ServerProcess

INSTALL_TIMEOUT_S = 180
TASK = """
import json, os, sys, time
print(f"task started at {time.time():.3f}", flush=True)
print("args " + json.dumps(sys.argv[1:]))
print("python " + sys.executable)
print("job " + os.environ["CLOUD_ML_JOB_ID"])
"""


@pytest.fixture(scope="module")
def pkg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of its own: the environment cache starts empty."""
    srv = ServerProcess(tmp_path_factory.mktemp("pypkg"))
    srv.start()
    yield srv
    srv.stop()


def _run(client: av1.JobServiceClient, uri: str, args: list[str]) -> av1.CustomJob:
    spec = job("pkg", package_pool([uri], "cj_demo.task", args))
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    return wait_for(client, created.name, timeout_s=INSTALL_TIMEOUT_S)


def _module_delay_s(done: av1.CustomJob, log: str) -> float:
    """Seconds from RUNNING to the user's module printing its first line."""
    started = float(re.search(r"task started at ([\d.]+)", log).group(1))  # type: ignore[union-attr]
    return started - done.start_time.timestamp()


def test_sdist_from_a_bucket_runs_then_reuses_its_cached_environment(
    pkg_server: ServerProcess, tmp_path: Path
) -> None:
    sdist = build_sdist(tmp_path, "cj_demo", {"task.py": TASK})
    upload(pkg_server.url, sdist, "gs://packages/trainers/cj_demo-0.1.tar.gz")
    client = rest_client(pkg_server.url)

    first = _run(
        client, "gs://packages/trainers/cj_demo-0.1.tar.gz", ["--epochs", "2", "--name=$(CLOUD_ML_JOB_ID)"]
    )
    assert first.state == av1.JobState.JOB_STATE_SUCCEEDED, first.error
    first_log = job_log(pkg_server.url, first.name)
    created = re.search(r"customjobs: created environment (\w+) in ([\d.]+)s", first_log)
    assert created, first_log
    key = created.group(1)
    assert "ignores executorImageUri us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest" in first_log
    job_id = first.name.rsplit("/", 1)[1]
    assert f'args ["--epochs", "2", "--name={job_id}"]' in first_log
    assert f"python {pkg_server.data_dir / 'python-envs' / key / 'bin' / 'python'}" in first_log

    second = _run(client, "gs://packages/trainers/cj_demo-0.1.tar.gz", [])
    assert second.state == av1.JobState.JOB_STATE_SUCCEEDED, second.error
    second_log = job_log(pkg_server.url, second.name)
    assert f"customjobs: reusing cached environment {key}" in second_log
    assert "created environment" not in second_log

    first_delay, second_delay = _module_delay_s(first, first_log), _module_delay_s(second, second_log)
    print(
        f"\nmodule start after RUNNING: first run {first_delay:.2f}s (built the environment in "
        f"{created.group(2)}s), second run {second_delay:.2f}s (cached)"
    )


def test_a_package_that_fails_to_install_fails_the_job_with_pips_error(
    pkg_server: ServerProcess, tmp_path: Path
) -> None:
    sdist = build_sdist(tmp_path, "cj_broken", {"task.py": TASK}, ("customjobs-no-such-dependency==0.0.1",))
    upload(pkg_server.url, sdist, "gs://packages/cj_broken-0.1.tar.gz")
    client = rest_client(pkg_server.url)
    spec = job("broken", package_pool(["gs://packages/cj_broken-0.1.tar.gz"], "cj_broken.task"))
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    done = wait_for(client, created.name, timeout_s=INSTALL_TIMEOUT_S)
    assert done.state == av1.JobState.JOB_STATE_FAILED
    assert "The replica workerpool0-0 exited with a non-zero status of 1" in done.error.message
    assert "No matching distribution found for customjobs-no-such-dependency==0.0.1" in done.error.message


def test_a_package_that_cannot_be_fetched_fails_the_job_naming_it(pkg_server: ServerProcess) -> None:
    client = rest_client(pkg_server.url)
    spec = job("missing", package_pool(["gs://packages/nowhere-0.1.tar.gz"], "nowhere.task"))
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    done = wait_for(client, created.name, timeout_s=INSTALL_TIMEOUT_S)
    assert done.state == av1.JobState.JOB_STATE_FAILED
    assert "cannot fetch package gs://packages/nowhere-0.1.tar.gz: no such file" in done.error.message


GANG_TASK = """
import json, os, pathlib, time
spec = json.loads(os.environ["CLUSTER_SPEC"])
name = f"{spec['task']['type']}-{spec['task']['index']}"
out = pathlib.Path(os.environ["AIP_MODEL_DIR"])
(out / name).write_text("up")
if spec["task"]["type"] == "workerpool0":
    deadline = time.time() + 60
    while len(list(out.iterdir())) < 3 and time.time() < deadline:
        time.sleep(0.05)
else:
    time.sleep(60)
"""


def test_replicas_starting_together_build_the_environment_once(
    pkg_server: ServerProcess, tmp_path: Path
) -> None:
    sdist = build_sdist(tmp_path, "cj_gang", {"task.py": GANG_TASK})
    upload(pkg_server.url, sdist, "gs://packages/cj_gang-0.1.tar.gz")
    pool0 = package_pool(["gs://packages/cj_gang-0.1.tar.gz"], "cj_gang.task")
    pool1 = package_pool(["gs://packages/cj_gang-0.1.tar.gz"], "cj_gang.task")
    pool1.replica_count = 2
    spec = job(
        "gang",
        pool0,
        pool1,
        base_output_directory=av1.GcsDestination(output_uri_prefix=f"file://{tmp_path}/o"),
    )
    client = rest_client(pkg_server.url)
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    done = wait_for(client, created.name, timeout_s=INSTALL_TIMEOUT_S)
    assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error
    logs = [
        job_log(pkg_server.url, done.name, r) for r in ("workerpool0-0", "workerpool1-0", "workerpool1-1")
    ]
    assert sum("customjobs: created environment" in log for log in logs) == 1, logs
    assert sum("customjobs: reusing cached environment" in log for log in logs) == 2, logs
