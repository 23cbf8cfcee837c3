"""Tune examples/tuning/train.py with the official SDK, against a customjobs server.

    customjobs serve &            # then, in another shell:
    python examples/tuning/tune.py --endpoint http://127.0.0.1:8080

The same code with `api_endpoint` left out runs the study on Vertex AI.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from google.auth.credentials import AnonymousCredentials
from google.cloud import aiplatform
from google.cloud.aiplatform import hyperparameter_tuning as hpt

TRAINER = Path(__file__).resolve().parent / "train.py"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", default="http://127.0.0.1:8080")
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--output", default="/tmp/customjobs-tuning-example")
    args = parser.parse_args()
    aiplatform.init(
        project="my-project",
        location="us-central1",
        api_endpoint=args.endpoint,
        api_transport="rest",
        credentials=AnonymousCredentials(),
        # The SDK asks for one; customjobs serves gs:// buckets from local disk.
        staging_bucket="gs://tuning-example",
    )
    trial = aiplatform.CustomJob(
        display_name="linear-trial",
        worker_pool_specs=[
            {
                "machine_spec": {"machine_type": "n1-standard-1"},
                "replica_count": 1,
                "container_spec": {"image_uri": "local/python", "command": [sys.executable, str(TRAINER)]},
            }
        ],
        base_output_dir=args.output,
    )
    job = aiplatform.HyperparameterTuningJob(
        display_name="linear-lr-search",
        custom_job=trial,
        metric_spec={"val_loss": "minimize"},
        parameter_spec={
            "learning_rate": hpt.DoubleParameterSpec(min=1e-4, max=5.0, scale="log"),
            "steps": hpt.IntegerParameterSpec(min=10, max=60, scale="linear"),
        },
        max_trial_count=args.trials,
        parallel_trial_count=2,
    )
    job.run(sync=True)
    best = min(job.trials, key=lambda t: t.final_measurement.metrics[0].value)
    params = {p.parameter_id: p.value for p in best.parameters}
    print(f"best trial {best.id}: {params}, val_loss {best.final_measurement.metrics[0].value:.6f}")


if __name__ == "__main__":
    main()
