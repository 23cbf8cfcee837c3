"""`customjobs models ...`: the Model registry (gcloud ai models, without gcloud).

A model is named by its id or full resource name, with `@VERSION` or `@ALIAS` to pick a
version; without one, the default version.
"""

from __future__ import annotations

import json
import sys

import click

from customjobs.cli.errors import CommandError
from customjobs.cli.http import ApiClient
from customjobs.cli.jobs import JobsGroup, Target, client_for, target_options
from customjobs.cli.render import plain_table

COLLECTION = "models"


@click.group("models", cls=JobsGroup)
@target_options
@click.pass_context
def models(ctx: click.Context, endpoint: str, project: str, region: str, token: str | None) -> None:
    """Manage the Model registry: list, describe, versions, upload, delete."""
    ctx.obj = Target(endpoint, project, region, token or None)


def _name(client: ApiClient, ref: str) -> str:
    ref = ref.strip()
    if ref.startswith("projects/"):
        return ref
    if not ref or "/" in ref:
        raise CommandError(
            f"Invalid model [{ref}]: expected an id or projects/P/locations/R/models/ID[@VERSION]."
        )
    return f"{client.parent}/{COLLECTION}/{ref}"


def _rows(found: list[dict[str, object]]) -> list[list[str]]:
    return [
        [
            str(m["name"]).rsplit("/", 1)[1],
            str(m.get("displayName", "")),
            str(m.get("versionId", "")),
            ",".join(m.get("versionAliases", [])),  # type: ignore[arg-type]
            str(m.get("artifactUri", "")),
        ]
        for m in found
    ]


_HEADERS = ["ID", "DISPLAY NAME", "VERSION", "ALIASES", "ARTIFACT URI"]


@models.command("list")
@click.option("--filter", "filter_", default="", help='Vertex filter, e.g. labels.team="ml".')
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def list_models(ctx: click.Context, filter_: str, fmt: str) -> None:
    """List models (each as its default version), newest first."""
    found = list(client_for(ctx, COLLECTION).list(filter_))
    if fmt == "json":
        sys.stdout.write(json.dumps(found, indent=2) + "\n")
    else:
        sys.stdout.write(plain_table(_HEADERS, _rows(found)))


@models.command()
@click.argument("model")
@click.pass_context
def describe(ctx: click.Context, model: str) -> None:
    """Print a model version as JSON."""
    client = client_for(ctx, COLLECTION)
    sys.stdout.write(json.dumps(client.get(_name(client, model)), indent=2) + "\n")


@models.command()
@click.argument("model")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def versions(ctx: click.Context, model: str, fmt: str) -> None:
    """List every version of a model, newest first."""
    client = client_for(ctx, COLLECTION)
    found = client.get(_name(client, model) + ":listVersions").get("models", [])
    if fmt == "json":
        sys.stdout.write(json.dumps(found, indent=2) + "\n")
    else:
        sys.stdout.write(plain_table(_HEADERS, _rows(found)))


@models.command()
@click.option("--display-name", required=True)
@click.option("--container-image-uri", required=True, help="The serving container image.")
@click.option("--artifact-uri", default="", help="Where the model's files are (gs://, file:// or a path).")
@click.option("--model-id", default="", help="The new model's id [a number the server picks].")
@click.option("--parent-model", default="", help="Upload as a new version of this model.")
@click.option("--version-alias", "aliases", multiple=True, help="An alias for the version (repeatable).")
@click.pass_context
def upload(
    ctx: click.Context,
    display_name: str,
    container_image_uri: str,
    artifact_uri: str,
    model_id: str,
    parent_model: str,
    aliases: tuple[str, ...],
) -> None:
    """Upload a model (a new model, or a version of --parent-model); print NAME@VERSION."""
    client = client_for(ctx, COLLECTION)
    model = {"displayName": display_name, "containerSpec": {"imageUri": container_image_uri}}
    if artifact_uri:
        model["artifactUri"] = artifact_uri
    if aliases:
        model["versionAliases"] = list(aliases)
    body: dict[str, object] = {"model": model, "modelId": model_id}
    if parent_model:
        body["parentModel"] = _name(client, parent_model)
    response = client.upload_model(body).get("response", {})
    click.echo(f"{response.get('model', '')}@{response.get('modelVersionId', '')}")


@models.command()
@click.argument("model")
@click.pass_context
def delete(ctx: click.Context, model: str) -> None:
    """Delete a model and all its versions; with MODEL@VERSION, only that version."""
    client = client_for(ctx, COLLECTION)
    name = _name(client, model)
    client.delete(name + ":deleteVersion" if "@" in name else name)
    click.echo(f"Deleted model [{name}].", err=True)
