"""`aiplatform.CustomJob.from_local_script` end to end, against our server and our buckets.

The SDK packages the script as an sdist, uploads it to gs://staging through the Cloud
Storage API (STORAGE_EMULATOR_HOST), and creates a job: a pythonPackageSpec for a
prebuilt-style image, or a containerSpec whose `sh -c` runs `pip install --upgrade pip`,
`pip3 install --user /gcs/staging/...tar.gz` and the module, for any other image. Both run
to SUCCEEDED, and the script's model lands in the bucket AIP_MODEL_DIR names.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from e2e.python_packages import job_log
from support.server import ServerProcess

TESTS_DIR = Path(__file__).resolve().parents[1]
SDK_TIMEOUT_S = 240
# What the job runs: it saves its "model" through google-cloud-storage to the gs:// AIP_MODEL_DIR.
SCRIPT = """
import argparse, os
from google.cloud import storage

parser = argparse.ArgumentParser()
parser.add_argument("--greeting")
greeting = parser.parse_args().greeting
model_dir = os.environ["AIP_MODEL_DIR"]
bucket, _, prefix = model_dir.removeprefix("gs://").partition("/")
storage.Client().bucket(bucket).blob(prefix + "model.txt").upload_from_string(greeting + " from the job")
print(f"saved {model_dir}model.txt")
"""


@pytest.mark.parametrize(
    ("container_uri", "spec_kind"),
    [
        ("us-docker.pkg.dev/vertex-ai/training/tf-cpu.2-17.py310:latest", "pythonPackageSpec"),
        ("local/custom-trainer:latest", "containerSpec"),
    ],
)
def test_from_local_script_runs_to_succeeded(
    server: ServerProcess, tmp_path: Path, container_uri: str, spec_kind: str
) -> None:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "STORAGE_EMULATOR_HOST": server.url, "PYTHONPATH": str(TESTS_DIR)}
    argv = [sys.executable, "-m", "e2e.local_script_scenarios", server.url, str(script), container_uri]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=SDK_TIMEOUT_S, cwd=tmp_path)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert "result-state JOB_STATE_SUCCEEDED" in done.stdout
    job_name = done.stdout.split("result-job ", 1)[1].split()[0]

    log = job_log(server.url, job_name)
    print(f"\n--- {spec_kind} job log ---\n{log}")
    assert "saved gs://staging/aiplatform-custom-job-" in log
    model_dir = log.split("saved gs://staging/", 1)[1].split()[0]
    saved = server.data_dir / "buckets" / "staging" / model_dir
    assert saved.read_text() == "hello from the job"
    packages = list(
        (server.data_dir / "buckets" / "staging").glob(
            "aiplatform-*-aiplatform_custom_trainer_script-0.1.tar.gz"
        )
    )
    assert packages, "the SDK's upload of the packaged script is in the bucket"
    if spec_kind == "pythonPackageSpec":
        assert "customjobs: created environment" in log or "customjobs: reusing cached environment" in log
    else:
        # pip ran inside the job's own environment, never the host Python's.
        job_dir = next(p for p in (server.data_dir / "jobs").iterdir() if job_name.endswith(p.name))
        user_site = list(
            (job_dir / "pyuser").glob("lib/python*/site-packages/aiplatform_custom_trainer_script")
        )
        assert user_site, log
        assert importlib.util.find_spec("aiplatform_custom_trainer_script") is None  # not in the host
