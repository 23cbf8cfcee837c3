"""The SDK's training classes as a user runs them, each in a process of its own.

    python -m e2e.pipeline_scenarios SERVER_URL SCENARIO WORKDIR [PARENT_MODEL]

SCENARIO is `script` (CustomTrainingJob from a local script), `container`
(CustomContainerTrainingJob) or `package` (CustomPythonPackageTrainingJob, from an sdist
this module builds and uploads). Each trains a small PyTorch regression whose weights it
saves to AIP_MODEL_DIR through google-cloud-storage, and returns an aiplatform.Model. The SDK
reads STORAGE_EMULATOR_HOST (set by the caller) for its uploads, and aiplatform.init's
settings are process-wide: a child process keeps both out of pytest's. Prints
`result-model NAME@VERSION`, `result-uri URI` and `result-pipeline NAME`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from google.auth.credentials import AnonymousCredentials
from google.cloud import aiplatform

from e2e.python_packages import build_sdist, upload

PROJECT = "pipelines-sdk"
LOCATION = "us-central1"
STAGING_BUCKET = "gs://pipeline-staging"
PREBUILT_TRAINING = "us-docker.pkg.dev/vertex-ai/training/pytorch-xla.2-4.py310:latest"
SERVING = "us-docker.pkg.dev/vertex-ai/prediction/pytorch-cpu.2-4:latest"
WAIT_S = 0.2

# The README's example trainer: fits y = 3x + 1 and saves the weights to AIP_MODEL_DIR.
TRAIN = (Path(__file__).resolve().parents[2] / "examples" / "pipelines" / "train.py").read_text()


def _run(server_url: str, scenario: str, workdir: Path, parent_model: str | None) -> aiplatform.Model:
    common = {"model_serving_container_image_uri": SERVING, "staging_bucket": STAGING_BUCKET}
    job: aiplatform.training_jobs._CustomTrainingJob
    if scenario == "script":
        script = workdir / "train.py"
        script.write_text(TRAIN)
        job = aiplatform.CustomTrainingJob(
            display_name="sdk-script", script_path=str(script), container_uri=PREBUILT_TRAINING, **common
        )
    elif scenario == "container":
        job = aiplatform.CustomContainerTrainingJob(
            display_name="sdk-container",
            container_uri="local/python",
            command=[sys.executable, "-c", TRAIN],
            **common,
        )
    elif scenario == "package":
        sdist = build_sdist(workdir, "linear_trainer", {"task.py": TRAIN})
        uri = f"{STAGING_BUCKET}/packages/{sdist.name}"
        upload(server_url, sdist, uri)
        job = aiplatform.CustomPythonPackageTrainingJob(
            display_name="sdk-package",
            python_package_gcs_uri=uri,
            python_module_name="linear_trainer.task",
            container_uri=PREBUILT_TRAINING,
            **common,
        )
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
    model = job.run(
        replica_count=1,
        machine_type="n1-standard-4",
        args=["--epochs", "300"],
        model_display_name=f"linear-{scenario}",
        parent_model=parent_model,
        sync=True,
    )
    print(f"result-pipeline {job.resource_name}")
    return model


def main(argv: list[str]) -> None:
    server_url, scenario, workdir, *rest = argv
    aiplatform.training_jobs._JOB_WAIT_TIME = WAIT_S
    aiplatform.jobs._JOB_WAIT_TIME = WAIT_S
    aiplatform.init(
        project=PROJECT,
        location=LOCATION,
        api_endpoint=server_url,
        api_transport="rest",
        credentials=AnonymousCredentials(),
    )
    model = _run(server_url, scenario, Path(workdir), rest[0] if rest else None)
    print(f"result-model {model.resource_name}@{model.version_id}")
    print(f"result-uri {model.uri}")


if __name__ == "__main__":
    main(sys.argv[1:])
