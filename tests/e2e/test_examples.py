"""The examples in examples/, run as CustomJobs through the API, on real distributed code.

- pytorch_ddp: DistributedDataParallel (gloo, CPU) across 1 primary + 2 workers that find
  each other through MASTER_ADDR/MASTER_PORT/WORLD_SIZE/RANK; its loss must fall below a
  threshold and the model it saves to AIP_MODEL_DIR must load with torch.
- tuning: examples/tuning/tune.py drives a HyperparameterTuningJob with the SDK; its best
  trial must have learnt (validation loss near the noise floor).
- pipelines: examples/pipelines/run.py trains with CustomTrainingJob.run(); the Model it
  returns holds weights that load back and fit the data.
- tf_config: every replica of chief + 2 workers + ps + evaluator resolves TF_CONFIG as
  TensorFlow does, and the chief sees them all through CLUSTER_SPEC.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from google.cloud import aiplatform_v1 as av1

from e2e.python_packages import job_log
from e2e.vertex import PARENT, job, pool, rest_client, wait_for
from support.server import ServerProcess

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# The synthetic data's noise is 0.05 (MSE floor 0.0025); an untrained model starts near 1.
DDP_MAX_FINAL_LOSS = 0.05
DDP_STEPS = 80
DDP_TIMEOUT_S = 240
TUNING_TIMEOUT_S = 180
PIPELINE_TIMEOUT_S = 240


def test_pytorch_ddp_trains_across_three_replicas_and_saves_a_loadable_model(
    server: ServerProcess, tmp_path: Path
) -> None:
    torch = pytest.importorskip("torch")
    command = [sys.executable, str(EXAMPLES / "pytorch_ddp" / "train.py"), "--steps", str(DDP_STEPS)]
    spec = job(
        "ddp",
        pool(command, 1),
        pool(command, 2),
        base_output_directory=av1.GcsDestination(output_uri_prefix=f"file://{tmp_path}/out"),
    )
    client = rest_client(server.url)
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    done = wait_for(client, created.name, timeout_s=DDP_TIMEOUT_S)
    assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error

    log = job_log(server.url, done.name)
    assert "rank 0/3: joining tcp://127.0.0.1:" in log
    final = re.search(r"final loss ([\d.]+)", log)
    assert final, log
    took = done.end_time - done.start_time
    print(f"\nDDP final loss {final.group(1)} (threshold {DDP_MAX_FINAL_LOSS}), running for {took}")
    assert float(final.group(1)) < DDP_MAX_FINAL_LOSS
    worker_log = job_log(server.url, done.name, "workerpool1-1")
    assert "rank 2/3: joining" in worker_log

    state = torch.load(tmp_path / "out" / "model" / "model.pt", weights_only=True)
    model = torch.nn.Linear(8, 1)
    model.load_state_dict(state)
    # The example's own true weights, to check what was learnt.
    loaded = importlib.util.spec_from_file_location("ddp_train", EXAMPLES / "pytorch_ddp" / "train.py")
    assert loaded is not None and loaded.loader is not None
    train = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(train)
    weight, _ = train.true_model()
    assert torch.allclose(model.weight.detach().T, weight, atol=0.1)


def test_tf_config_is_read_the_tensorflow_way_by_every_replica(server: ServerProcess, tmp_path: Path) -> None:
    command = [sys.executable, str(EXAMPLES / "tf_config" / "read_tf_config.py")]
    spec = job(
        "tf-config",
        pool(command, 1),
        pool(command, 2),
        pool(command, 1),
        pool(command, 1),
        base_output_directory=av1.GcsDestination(output_uri_prefix=f"file://{tmp_path}/out"),
    )
    client = rest_client(server.url)
    created = client.create_custom_job(parent=PARENT, custom_job=spec)
    done = wait_for(client, created.name, timeout_s=60)
    assert done.state == av1.JobState.JOB_STATE_SUCCEEDED, done.error
    assert "chief: all 5 replicas resolved their TF_CONFIG; 3 workers" in job_log(server.url, done.name)

    records = {
        p.stem.removesuffix(".json"): json.loads(p.read_text()) for p in (tmp_path / "out").rglob("*.json")
    }
    assert set(records) == {"chief-0", "worker-0", "worker-1", "ps-0", "evaluator-0"}
    chief, worker = records["chief-0"], records["worker-1"]
    assert set(chief["cluster"]) == {"chief", "worker", "ps"}  # never the evaluator
    assert chief["is_chief"] and not worker["is_chief"]
    assert (worker["task_type"], worker["task_id"]) == ("worker", 1)
    assert worker["master"] == f"grpc://{chief['cluster']['worker'][1]}"
    assert records["evaluator-0"]["task_type"] == "evaluator"
    assert records["evaluator-0"]["vertex_task"] == {"type": "workerpool3", "index": 0}


def test_tuning_example_finds_a_learning_rate_that_learns(server: ServerProcess, tmp_path: Path) -> None:
    """examples/tuning: the SDK script as the README runs it, its study searched for real."""
    argv = [sys.executable, str(EXAMPLES / "tuning" / "tune.py"), "--endpoint", server.url]
    argv += ["--trials", "8", "--output", str(tmp_path / "out")]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=TUNING_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    best = re.search(r"best trial (\d+): .*val_loss ([\d.]+)", done.stdout)
    assert best, done.stdout
    # The noise floor is 0.0025; a learning rate the search got wrong stays far above it.
    assert float(best.group(2)) < 0.05, done.stdout
    assert (tmp_path / "out" / best.group(1) / "model" / "weights.txt").is_file()


def test_pipelines_example_returns_a_model_that_learnt(server: ServerProcess, tmp_path: Path) -> None:
    """examples/pipelines: CustomTrainingJob.run() as the README runs it; the Model loads back."""
    argv = [sys.executable, str(EXAMPLES / "pipelines" / "run.py"), "--endpoint", server.url]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=PIPELINE_TIMEOUT_S, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    learnt = re.search(r"learnt y = ([\d.-]+)x \+ ([\d.-]+)", done.stdout)
    assert learnt, done.stdout
    assert abs(float(learnt.group(1)) - 3) < 0.05 and abs(float(learnt.group(2)) - 1) < 0.05
    assert re.search(
        r"model projects/my-project/locations/us-central1/models/\d+ version 1: gs://", done.stdout
    )
