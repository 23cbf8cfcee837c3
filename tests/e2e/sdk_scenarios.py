"""What a user of the high-level SDK (`google.cloud.aiplatform`) does, as scenarios.

test_sdk.py runs each scenario in-process over REST, and over gRPC with TLS in a child
process (`python -m e2e.sdk_scenarios grpc localhost:PORT NAME`): gRPC reads
GRPC_DEFAULT_SSL_ROOTS_FILE_PATH once per process, at its first TLS channel, and caches
the roots for good, so a variable set by monkeypatch would only work if no earlier test in
the pytest process had opened a TLS channel. A fresh process with the variable in its
environment is what a user does, and is independent of test order.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import aiplatform
from google.cloud.aiplatform import hyperparameter_tuning as hpt
from google.cloud.aiplatform_v1 import JobState

PROJECT = "sdk-project"
LOCATION = "us-central1"
JOB_WAIT_TIME_S = 0.2


def configure(transport: str, endpoint: str) -> None:
    """aiplatform.init as the README says: REST with http://, or gRPC (TLS) with host:port."""
    aiplatform.init(
        project=PROJECT,
        location=LOCATION,
        api_endpoint=endpoint,
        api_transport=transport,
        credentials=AnonymousCredentials(),
        staging_bucket="gs://test-bucket",
    )


def _pool(command: list[str], replicas: int = 1) -> dict[str, Any]:
    return {
        "machine_spec": {"machine_type": "n1-standard-4"},
        "replica_count": replicas,
        "container_spec": {"image_uri": "local/python", "command": command},
    }


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _custom_job(prefix: str, *pools: dict[str, Any], **labels: str) -> aiplatform.CustomJob:
    return aiplatform.CustomJob(
        display_name=f"{prefix}-{uuid.uuid4().hex[:8]}", worker_pool_specs=list(pools), labels=labels
    )


def _wait_for_state(job: aiplatform.CustomJob, state: JobState, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while job.state != state:  # every .state is a GET
        assert time.monotonic() < deadline, f"{job.resource_name} still {job.state.name}"
        time.sleep(0.05)


def run_two_pools() -> None:
    job = _custom_job(
        "sdk-run",
        _pool(_python("print('chief done')")),
        _pool(_python("import time; time.sleep(30)"), replicas=2),
    )
    job.run(sync=True)
    assert job.state == JobState.JOB_STATE_SUCCEEDED
    assert job.resource_name.startswith(f"projects/{PROJECT}/locations/{LOCATION}/customJobs/")
    spec = job.gca_resource.job_spec
    assert spec.worker_pool_specs[1].replica_count == 2
    assert spec.base_output_directory.output_uri_prefix.startswith("gs://test-bucket/")


def submit_and_wait() -> None:
    job = _custom_job("sdk-submit", _pool(_python("import time; time.sleep(0.5)")))
    job.submit()
    job.wait()  # waits for submit's own work only: the job now exists, and may still run
    assert job.state in (JobState.JOB_STATE_PENDING, JobState.JOB_STATE_RUNNING)
    job.wait_for_completion()
    assert job.state == JobState.JOB_STATE_SUCCEEDED


def failing_job_raises() -> None:
    job = _custom_job("sdk-fail", _pool(_python("import sys; print('bad shard 7'); sys.exit(3)")))
    with pytest.raises(RuntimeError, match="Job failed with") as info:
        job.run(sync=True)
    assert "The replica workerpool0-0 exited with a non-zero status of 3." in str(info.value)
    assert "bad shard 7" in str(info.value)
    assert job.state == JobState.JOB_STATE_FAILED


def list_and_get() -> None:
    batch = uuid.uuid4().hex
    jobs = [_custom_job("sdk-list", _pool(["true"]), batch=batch) for _ in range(3)]
    for job in jobs:
        job.submit()
    listed = aiplatform.CustomJob.list(filter=f'labels.batch="{batch}"')
    assert [j.resource_name for j in listed] == [j.resource_name for j in reversed(jobs)]
    job_id = jobs[0].resource_name.rsplit("/", 1)[1]
    fetched = aiplatform.CustomJob.get(job_id)
    assert fetched.resource_name == jobs[0].resource_name
    assert fetched.display_name == jobs[0].display_name
    assert fetched.labels == {"batch": batch}
    fetched.wait_for_completion()
    assert fetched.state == JobState.JOB_STATE_SUCCEEDED


def cancel_running() -> None:
    job = _custom_job("sdk-cancel", _pool(["sleep", "600"]))
    job.submit()
    _wait_for_state(job, JobState.JOB_STATE_RUNNING)
    job.cancel()
    with pytest.raises(RuntimeError, match="Job failed with"):
        job.wait_for_completion()
    assert job.state == JobState.JOB_STATE_CANCELLED
    assert job.gca_resource.error.code == 1


def timeout_fails() -> None:
    job = _custom_job("sdk-timeout", _pool(["sleep", "600"]))
    job.submit(timeout=1)  # scheduling.timeout: 1s
    with pytest.raises(RuntimeError, match="Job failed with"):
        job.wait_for_completion()
    assert job.state == JobState.JOB_STATE_FAILED
    assert job.gca_resource.error.code == 4  # DEADLINE_EXCEEDED
    assert "timeout of 1s" in job.gca_resource.error.message


def delete() -> None:
    job = _custom_job("sdk-delete", _pool(["true"]))
    job.run(sync=True)
    name = job.resource_name
    job.delete()
    with pytest.raises(exceptions.NotFound):
        aiplatform.CustomJob.get(name)


def tuning_grid_and_delete() -> None:
    """A HyperparameterTuningJob: its trials run, report with cloudml-hypertune, and are read back."""
    report = (
        "import sys, hypertune; n = int(sys.argv[-1].split('=')[1]); "
        "hypertune.HyperTune().report_hyperparameter_tuning_metric('loss', (n - 2) ** 2)"
    )
    pool = {**_pool(_python(report)), "machine_spec": {"machine_type": "n1-standard-1"}}
    job = aiplatform.HyperparameterTuningJob(
        display_name=f"sdk-tuning-{uuid.uuid4().hex[:8]}",
        custom_job=aiplatform.CustomJob(display_name="trial", worker_pool_specs=[pool]),
        metric_spec={"loss": "minimize"},
        parameter_spec={"n": hpt.IntegerParameterSpec(min=1, max=3, scale="linear")},
        max_trial_count=3,
        parallel_trial_count=2,
        search_algorithm="grid",
    )
    job.run(sync=True)
    assert job.state == JobState.JOB_STATE_SUCCEEDED
    values = sorted(t.parameters[0].value for t in job.trials)
    assert values == [1, 2, 3]
    best = min(job.trials, key=lambda t: t.final_measurement.metrics[0].value)
    assert best.parameters[0].value == 2
    fetched = aiplatform.HyperparameterTuningJob.get(job.resource_name)
    assert len(fetched.trials) == 3
    job.delete()
    with pytest.raises(exceptions.NotFound):
        aiplatform.HyperparameterTuningJob.get(job.resource_name)


SCENARIOS: dict[str, Callable[[], None]] = {
    fn.__name__: fn
    for fn in (
        run_two_pools,
        submit_and_wait,
        failing_job_raises,
        list_and_get,
        cancel_running,
        timeout_fails,
        delete,
        tuning_grid_and_delete,
    )
}


def main(argv: list[str]) -> None:
    transport, endpoint, name = argv
    aiplatform.jobs._JOB_WAIT_TIME = JOB_WAIT_TIME_S
    configure(transport, endpoint)
    SCENARIOS[name]()
    print(f"{name} over {transport}: ok")


if __name__ == "__main__":
    main(sys.argv[1:])
