"""`customjobs pipelines ...` (TrainingPipelines) and `customjobs models ...` (the Model registry).

A pipeline's config file holds its custom task's inputs (a CustomJobSpec: workerPoolSpecs,
baseOutputDirectory...) in camelCase YAML, the way `hp-tuning-jobs --config` holds a
trialJobSpec; `--model-display-name` and `--model-container-image` ask for a Model upload.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from customjobs.cli.errors import CommandError
from customjobs.cli.jobs import JobsGroup, Target, client_for, target_options
from customjobs.cli.render import plain_table

COLLECTION = "trainingPipelines"
CUSTOM_TASK = "gs://google-cloud-aiplatform/schema/trainingjob/definition/custom_task_1.0.0.yaml"


@click.group("pipelines", cls=JobsGroup)
@target_options
@click.pass_context
def pipelines(ctx: click.Context, endpoint: str, project: str, region: str, token: str | None) -> None:
    """Manage TrainingPipelines: a backing CustomJob, then a Model upload."""
    ctx.obj = Target(endpoint, project, region, token or None)


@pipelines.command()
@click.option("--display-name", required=True, help="The pipeline's display name.")
@click.option(
    "--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="YAML of the custom task's inputs: workerPoolSpecs, baseOutputDirectory... (camelCase).",
)  # fmt: skip
@click.option("--model-display-name", help="Upload a Model with this name when the job succeeds.")
@click.option("--model-container-image", help="The Model's serving container image.")
@click.option("--model-id", help="The new Model's id [a number the server picks].")
@click.option("--parent-model", help="Upload as a new version of this Model (a resource name).")
@click.pass_context
def create(
    ctx: click.Context,
    display_name: str,
    config_path: Path,
    model_display_name: str | None,
    model_container_image: str | None,
    model_id: str | None,
    parent_model: str | None,
) -> None:
    """Create a training pipeline; print its name."""
    import yaml

    try:
        inputs = yaml.safe_load(config_path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise CommandError(f"Cannot read --config {config_path}: {exc}") from exc
    if not isinstance(inputs, dict):
        raise CommandError(f"--config {config_path} must hold a mapping (workerPoolSpecs, ...).")
    body: dict[str, Any] = {
        "displayName": display_name,
        "trainingTaskDefinition": CUSTOM_TASK,
        "trainingTaskInputs": inputs,
    }
    if model_display_name or model_container_image:
        body["modelToUpload"] = {
            "displayName": model_display_name or display_name,
            "containerSpec": {"imageUri": model_container_image or ""},
        }
    if model_id:
        body["modelId"] = model_id
    if parent_model:
        body["parentModel"] = parent_model
    name = str(client_for(ctx, COLLECTION).create(body).get("name", ""))
    click.echo(f"Training pipeline [{name}] submitted successfully.", err=True)
    click.echo(name)


@pipelines.command("list")
@click.option("--filter", "filter_", default="", help='Vertex filter, e.g. state="PIPELINE_STATE_RUNNING".')
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def list_pipelines(ctx: click.Context, filter_: str, fmt: str) -> None:
    """List training pipelines, newest first, with their backing job and Model."""
    found = list(client_for(ctx, COLLECTION).list(filter_))
    if fmt == "json":
        sys.stdout.write(json.dumps(found, indent=2) + "\n")
        return
    rows = []
    for p in found:
        backing = p.get("trainingTaskMetadata", {}).get("backingCustomJob", "")
        model = p.get("modelToUpload", {})
        uploaded = (
            f"{model['name'].rsplit('/', 1)[1]}@{model.get('versionId', '')}" if model.get("name") else ""
        )
        rows.append(
            [
                p["name"].rsplit("/", 1)[1],
                p.get("displayName", ""),
                p["state"],
                backing.rsplit("/", 1)[-1],
                uploaded,
            ]
        )
    sys.stdout.write(plain_table(["ID", "DISPLAY NAME", "STATE", "BACKING JOB", "MODEL"], rows))


@pipelines.command("describe")
@click.argument("pipeline")
@click.pass_context
def describe_pipeline(ctx: click.Context, pipeline: str) -> None:
    """Print a training pipeline as JSON (an id or a full resource name)."""
    client = client_for(ctx, COLLECTION)
    sys.stdout.write(json.dumps(client.get(client.job_name(pipeline)), indent=2) + "\n")


@pipelines.command("cancel")
@click.argument("pipeline")
@click.pass_context
def cancel_pipeline(ctx: click.Context, pipeline: str) -> None:
    """Ask the server to cancel a pipeline (its backing job is cancelled)."""
    client = client_for(ctx, COLLECTION)
    name = client.job_name(pipeline)
    client.cancel(name)
    click.echo(f"Request to cancel training pipeline [{name}] has been sent.", err=True)


@pipelines.command("delete")
@click.argument("pipeline")
@click.pass_context
def delete_pipeline(ctx: click.Context, pipeline: str) -> None:
    """Delete an ended pipeline (its backing job and Model stay)."""
    client = client_for(ctx, COLLECTION)
    name = client.job_name(pipeline)
    client.delete(name)
    click.echo(f"Deleted training pipeline [{name}].", err=True)
