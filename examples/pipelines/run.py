"""Train examples/pipelines/train.py with `CustomTrainingJob(...).run()` and load the Model back.

    customjobs serve &            # then, in another shell:
    python examples/pipelines/run.py --endpoint http://127.0.0.1:8080

The SDK packages the script, uploads it to the staging bucket, creates a TrainingPipeline
and waits; the pipeline's backing CustomJob trains, and the Model it uploads points at the
weights. The same code with `api_endpoint` (and STORAGE_EMULATOR_HOST) left out runs on Vertex.
"""

from __future__ import annotations

import argparse
import io
import os
from pathlib import Path

TRAINER = Path(__file__).resolve().parent / "train.py"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", default="http://127.0.0.1:8080")
    parser.add_argument("--parent-model", help="Add the Model as a new version of this one.")
    args = parser.parse_args()
    # The SDK uploads the packaged script with google-cloud-storage: to this server's buckets.
    os.environ.setdefault("STORAGE_EMULATOR_HOST", args.endpoint)
    import torch
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import aiplatform, storage

    aiplatform.init(
        project="my-project",
        location="us-central1",
        api_endpoint=args.endpoint,
        api_transport="rest",
        credentials=AnonymousCredentials(),
        staging_bucket="gs://pipelines-example",
    )
    job = aiplatform.CustomTrainingJob(
        display_name="linear-regression",
        script_path=str(TRAINER),
        container_uri="us-docker.pkg.dev/vertex-ai/training/pytorch-xla.2-4.py310:latest",
        model_serving_container_image_uri="us-docker.pkg.dev/vertex-ai/prediction/pytorch-cpu.2-4:latest",
    )
    model = job.run(
        replica_count=1,
        machine_type="n1-standard-4",
        args=["--epochs", "300"],
        parent_model=args.parent_model,
    )
    print(f"model {model.resource_name} version {model.version_id}: {model.uri}")
    bucket, _, prefix = model.uri.removeprefix("gs://").partition("/")
    client = storage.Client(project="my-project", credentials=AnonymousCredentials())
    layer = torch.nn.Linear(1, 1)
    layer.load_state_dict(
        torch.load(io.BytesIO(client.bucket(bucket).blob(prefix + "/model.pt").download_as_bytes()))
    )
    print(f"learnt y = {layer.weight.item():.3f}x + {layer.bias.item():.3f}")


if __name__ == "__main__":
    main()
