"""`customjobs hp-tuning-jobs ...`: create, list, describe, cancel, delete HyperparameterTuningJobs,
and `trials` (a table, CSV or JSON of a study's trials with their parameters and final metrics).

Flags follow `gcloud ai hp-tuning-jobs`; the config file holds the job's studySpec and
trialJobSpec in camelCase YAML, as gcloud's `--config` does.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from customjobs.cli.errors import CommandError
from customjobs.cli.jobs import JobsGroup, Target, client_for, target_options

COLLECTION = "hyperparameterTuningJobs"


@click.group("hp-tuning-jobs", cls=JobsGroup)
@target_options
@click.pass_context
def tuning(ctx: click.Context, endpoint: str, project: str, region: str, token: str | None) -> None:
    """Manage HyperparameterTuningJobs (gcloud ai hp-tuning-jobs, without gcloud)."""
    ctx.obj = Target(endpoint, project, region, token or None)


@tuning.command()
@click.option("--display-name", required=True, help="The job's display name.")
@click.option(
    "--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="YAML with studySpec and trialJobSpec (camelCase), as gcloud's --config.",
)  # fmt: skip
@click.option("--max-trial-count", type=click.IntRange(min=1), help="Trials in all [config's, else 1].")
@click.option("--parallel-trial-count", type=click.IntRange(min=1), help="Trials at once [config's, else 1].")
@click.option("--max-failed-trial-count", type=click.IntRange(min=0), help="Failed trials that fail the job.")
@click.pass_context
def create(
    ctx: click.Context,
    display_name: str,
    config_path: Path,
    max_trial_count: int | None,
    parallel_trial_count: int | None,
    max_failed_trial_count: int | None,
) -> None:
    """Create a tuning job; print its name."""
    import yaml

    try:
        config = yaml.safe_load(config_path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise CommandError(f"Cannot read --config {config_path}: {exc}") from exc
    if not isinstance(config, dict):
        raise CommandError(f"--config {config_path} must hold a mapping (studySpec, trialJobSpec).")
    body: dict[str, Any] = {**config, "displayName": display_name}
    body["maxTrialCount"] = max_trial_count or config.get("maxTrialCount", 1)
    body["parallelTrialCount"] = parallel_trial_count or config.get("parallelTrialCount", 1)
    if max_failed_trial_count is not None:
        body["maxFailedTrialCount"] = max_failed_trial_count
    job = client_for(ctx, COLLECTION).create(body)
    name = str(job.get("name", ""))
    click.echo(f"Hyperparameter tuning job [{name}] submitted successfully.", err=True)
    click.echo(name)


@tuning.command("list")
@click.option("--filter", "filter_", default="", help='Vertex filter, e.g. state="JOB_STATE_RUNNING".')
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def list_(ctx: click.Context, filter_: str, fmt: str) -> None:
    """List tuning jobs, newest first."""
    found = list(client_for(ctx, COLLECTION).list(filter_))
    if fmt == "json":
        sys.stdout.write(json.dumps(found, indent=2) + "\n")
        return
    rows = [
        (j["name"].rsplit("/", 1)[1], j.get("displayName", ""), j["state"], str(len(j.get("trials", []))))
        for j in found
    ]
    _print_table(("ID", "DISPLAY NAME", "STATE", "TRIALS"), rows)


@tuning.command()
@click.argument("job")
@click.pass_context
def describe(ctx: click.Context, job: str) -> None:
    """Print a tuning job as JSON (an id or a full resource name)."""
    client = client_for(ctx, COLLECTION)
    sys.stdout.write(json.dumps(client.get(client.job_name(job)), indent=2) + "\n")


@tuning.command()
@click.argument("job")
@click.pass_context
def cancel(ctx: click.Context, job: str) -> None:
    """Ask the server to cancel a tuning job (its running trials are stopped)."""
    client = client_for(ctx, COLLECTION)
    name = client.job_name(job)
    client.cancel(name)
    click.echo(f"Request to cancel hyperparameter tuning job [{name}] has been sent.", err=True)


@tuning.command()
@click.argument("job")
@click.pass_context
def delete(ctx: click.Context, job: str) -> None:
    """Delete an ended tuning job (waits for the operation)."""
    client = client_for(ctx, COLLECTION)
    name = client.job_name(job)
    client.delete(name)
    click.echo(f"Deleted hyperparameter tuning job [{name}].", err=True)


@tuning.command()
@click.argument("job")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
@click.pass_context
def trials(ctx: click.Context, job: str, fmt: str) -> None:
    """A study's trials: id, state, each parameter, each final metric; the best one marked."""
    client = client_for(ctx, COLLECTION)
    found = client.get(client.job_name(job))
    rows = trial_rows(found)
    if fmt == "json":
        sys.stdout.write(json.dumps(found.get("trials", []), indent=2) + "\n")
    elif fmt == "csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        sys.stdout.write(out.getvalue())
    else:
        _print_table(tuple(rows[0]), [tuple(r) for r in rows[1:]])


def trial_rows(job: dict[str, Any]) -> list[list[str]]:
    """A header and one row per trial; `best` is * on the best SUCCEEDED trial by the first metric."""
    metrics = [m["metricId"] for m in job.get("studySpec", {}).get("metrics", [])]
    goal = job.get("studySpec", {}).get("metrics", [{}])[0].get("goal", "MAXIMIZE")
    all_trials = job.get("trials", [])
    params = list(dict.fromkeys(p["parameterId"] for t in all_trials for p in t.get("parameters", [])))

    def final(trial: dict[str, Any]) -> dict[str, Any]:
        return {
            m["metricId"]: m.get("value", 0.0) for m in trial.get("finalMeasurement", {}).get("metrics", [])
        }

    done = [t for t in all_trials if t.get("state") == "SUCCEEDED" and metrics and metrics[0] in final(t)]
    pick = max if goal == "MAXIMIZE" else min
    best = pick(done, key=lambda t: final(t)[metrics[0]])["id"] if done else None
    rows = [["trial", "state", *params, *metrics, "best"]]
    for trial in all_trials:
        values = {p["parameterId"]: p["value"] for p in trial.get("parameters", [])}
        scores = final(trial)
        rows.append(
            [
                trial["id"],
                trial.get("state", ""),
                *(_text(values.get(p, "")) for p in params),
                *(_text(scores.get(m, "")) for m in metrics),
                "*" if trial["id"] == best else "",
            ]
        )
    return rows


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _print_table(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    from customjobs.cli.render import plain_table

    sys.stdout.write(plain_table(list(headers), [list(r) for r in rows]))
