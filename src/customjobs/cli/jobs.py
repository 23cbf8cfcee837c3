"""`customjobs jobs ...`: create, list, describe, cancel, delete, follow and wait for CustomJobs.

A client of the REST API only, for people with neither gcloud nor the SDK. Flags follow
`gcloud ai custom-jobs`. Heavy modules (httpx, rich, yaml) are imported inside the
commands, so `--help` and argument errors stay fast.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from customjobs.cli.errors import CommandError, JobsCommand

if TYPE_CHECKING:
    from customjobs.cli.http import ApiClient

DEFAULT_ENDPOINT = "http://127.0.0.1:8080"
DEFAULT_PROJECT = "default"
DEFAULT_REGION = "us-central1"
TIMEOUT_EXIT = 2


@dataclass(frozen=True)
class Target:
    """Where requests go: the server, and the project and region that bare job ids belong to."""

    endpoint: str
    project: str
    region: str
    # The bearer token sent to a server with authentication on (--token, $CUSTOMJOBS_TOKEN).
    token: str | None = None


# Where gcloud users put them: `customjobs jobs list --endpoint URL` as well as
# `customjobs jobs --endpoint URL list`. A value given after the verb wins over the group's.
TARGET_FLAGS = ("endpoint", "project", "region", "token")


class TargetCommand(JobsCommand):
    """A jobs verb that also takes the group's --endpoint/--project/--region/--token."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(
            click.Option([f"--{flag}"], default=None, help=f"As `customjobs jobs --{flag}`, after the verb.")
            for flag in TARGET_FLAGS
        )

    def invoke(self, ctx: click.Context) -> Any:
        given = {flag: ctx.params.pop(flag) for flag in TARGET_FLAGS}
        given = {flag: value for flag, value in given.items() if value is not None}
        if given:
            ctx.obj = dataclasses.replace(_target(ctx), **given)
        return super().invoke(ctx)


class JobsGroup(click.Group):
    command_class = TargetCommand


def _target(ctx: click.Context) -> Target:
    return ctx.find_object(Target) or Target(DEFAULT_ENDPOINT, DEFAULT_PROJECT, DEFAULT_REGION)


def client_for(ctx: click.Context, collection: str = "customJobs") -> ApiClient:
    from customjobs.cli.http import ApiClient

    target = _target(ctx)
    client = ApiClient(
        target.endpoint, target.project, target.region, token=target.token, collection=collection
    )
    return ctx.with_resource(client)


def target_options(group: Callable[..., Any]) -> Callable[..., Any]:
    """The options every group of API verbs takes (here and in cli/tuning.py)."""
    for option in reversed(_TARGET_OPTIONS):
        group = option(group)
    return group


_TARGET_OPTIONS = [
    click.option(
        "--endpoint", envvar="CUSTOMJOBS_ENDPOINT", default=DEFAULT_ENDPOINT, show_default=True,
        help="The customjobs server [env: CUSTOMJOBS_ENDPOINT].",
    ),
    click.option(
        "--project", envvar="CUSTOMJOBS_PROJECT", default=DEFAULT_PROJECT, show_default=True,
        help="Project of bare job ids and new jobs [env: CUSTOMJOBS_PROJECT].",
    ),
    click.option(
        "--region", envvar="CUSTOMJOBS_REGION", default=DEFAULT_REGION, show_default=True,
        help="Region of bare job ids and new jobs [env: CUSTOMJOBS_REGION].",
    ),
    click.option(
        "--token", envvar="CUSTOMJOBS_TOKEN", default=None, show_default=False,
        help="Bearer token for a server with authentication [env: CUSTOMJOBS_TOKEN].",
    ),
]  # fmt: skip


@click.group(cls=JobsGroup)
@target_options
@click.pass_context
def jobs(ctx: click.Context, endpoint: str, project: str, region: str, token: str | None) -> None:
    """Manage CustomJobs on a customjobs server (gcloud ai custom-jobs, without gcloud)."""
    ctx.obj = Target(endpoint, project, region, token or None)


@jobs.command()
@click.option("--display-name", required=True, help="The job's display name.")
@click.option(
    "--worker-pool-spec", "pool_values", multiple=True, metavar="SPEC",
    help="One worker pool, as gcloud: machine-type=M[,replica-count=N][,accelerator-type=T"
    "[,accelerator-count=C]],container-image-uri=I | executor-image-uri=I,python-module=M. "
    "Repeat for pools 1-3; an empty value skips a pool. Replaces the config's workerPoolSpecs.",
)  # fmt: skip
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
    help="YAML CustomJobSpec in camelCase (workerPoolSpecs, baseOutputDirectory, scheduling, ...).",
)  # fmt: skip
@click.option("--labels", multiple=True, metavar="KEY=VALUE,...", help="Labels of the job.")
@click.option("--args", "args_values", multiple=True, metavar="ARG,...", help="Args of every pool.")
@click.option(
    "--command", "command_values", multiple=True, metavar="CMD,...", help="Command of every container."
)
@click.option(
    "--python-package-uris", "package_values", multiple=True, metavar="URI,...",
    help="packageUris of pools given with executor-image-uri.",
)  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["json", "yaml", "table"]), help="Print the created job.")
@click.pass_context
def create(
    ctx: click.Context,
    display_name: str,
    pool_values: tuple[str, ...],
    config_path: Path | None,
    labels: tuple[str, ...],
    args_values: tuple[str, ...],
    command_values: tuple[str, ...],
    package_values: tuple[str, ...],
    fmt: str | None,
) -> None:
    """Create a job; print its name (or the job, with --format)."""
    from customjobs.cli import pool_specs, render

    config = pool_specs.load_config(config_path) if config_path else None
    spec = pool_specs.build_job_spec(
        config,
        pool_values,
        args=pool_specs.split_lists(args_values, "--args"),
        command=pool_specs.split_lists(command_values, "--command"),
        package_uris=pool_specs.split_lists(package_values, "--python-package-uris"),
    )
    body: dict[str, Any] = {"displayName": display_name, "jobSpec": spec}
    if labels:
        body["labels"] = pool_specs.parse_labels(labels)
    job = client_for(ctx).create(body)
    name = str(job.get("name", ""))
    click.echo(
        f"CustomJob [{name}] is submitted successfully.\n\n"
        f"Follow its logs with\n\n  $ customjobs jobs logs {name} --follow\n\n"
        f"or wait for it to end with\n\n  $ customjobs jobs wait {name}\n",
        err=True,
    )
    if fmt:
        render.print_job(job, fmt)
    else:
        click.echo(name)


@jobs.command("list")
@click.option("--filter", "filter_", default="", help='Vertex filter, e.g. state="JOB_STATE_RUNNING".')
@click.option("--page-size", type=click.IntRange(min=1), help="Jobs per request.")
@click.option("--limit", type=click.IntRange(min=1), help="Stop after this many jobs.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "yaml"]), default="table", show_default=True
)
@click.pass_context
def list_(ctx: click.Context, filter_: str, page_size: int | None, limit: int | None, fmt: str) -> None:
    """List jobs, newest first (filtered by the server)."""
    from customjobs.cli import render

    found = list(client_for(ctx).list(filter_, page_size, limit))
    if not found and fmt == "table":
        click.echo("Listed 0 items.", err=True)
        return
    render.print_jobs(found, fmt)


@jobs.command()
@click.argument("job")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
@click.pass_context
def describe(ctx: click.Context, job: str, fmt: str) -> None:
    """Print a job (an id or a full resource name)."""
    from customjobs.cli import render

    client = client_for(ctx)
    render.print_job(client.get(client.job_name(job)), fmt)


@jobs.command()
@click.argument("job")
@click.pass_context
def cancel(ctx: click.Context, job: str) -> None:
    """Ask the server to cancel a job."""
    client = client_for(ctx)
    name = client.job_name(job)
    client.cancel(name)
    click.echo(
        f"Request to cancel CustomJob [{name}] has been sent.\n\n"
        f"You may view the status of your job with the command\n\n  $ customjobs jobs describe {name}\n",
        err=True,
    )


@jobs.command()
@click.argument("job")
@click.pass_context
def delete(ctx: click.Context, job: str) -> None:
    """Delete an ended job (waits for the operation)."""
    client = client_for(ctx)
    name = client.job_name(job)
    client.delete(name)
    click.echo(f"Deleted CustomJob [{name}].", err=True)


@jobs.command()
@click.argument("job")
@click.option("--replica", metavar="workerpoolP-R", help="Only this replica, e.g. workerpool0-0.")
@click.option("--follow", "-f", is_flag=True, help="Keep streaming until the job ends.")
@click.pass_context
def logs(ctx: click.Context, job: str, replica: str | None, follow: bool) -> None:
    """Print a job's logs, or follow them until it ends.

    Without --replica, every replica's lines are prefixed with [workerpoolP-R].
    """
    client = client_for(ctx)
    out = sys.stdout.buffer
    try:
        for chunk in client.logs(client.job_name(job), replica, follow):
            out.write(chunk)
            out.flush()
    except BrokenPipeError:
        # The reader (`| head`) left; say nothing more, and keep Python from failing to flush.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        ctx.exit(1)


@jobs.command()
@click.argument("job")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0), help="Give up after this many seconds.")
@click.pass_context
def wait(ctx: click.Context, job: str, timeout_s: float | None) -> None:
    """Wait for a job to end, showing its state.

    Exits 0 if it SUCCEEDED, 1 if it failed or was cancelled (printing its error), 2 on timeout.
    """
    from customjobs.cli.http import SUCCEEDED, job_state
    from customjobs.cli.progress import wait_for_end

    client = client_for(ctx)
    name = client.job_name(job)
    ended = wait_for_end(client, name, timeout_s)
    if ended is None:
        raise CommandError(f"Timed out after {timeout_s}s waiting for CustomJob [{name}].", TIMEOUT_EXIT)
    state = job_state(ended)
    click.echo(state)
    if state != SUCCEEDED:
        error = ended.get("error") or {}
        detail = f": {error['message']}" if error.get("message") else "."
        raise CommandError(f"CustomJob [{name}] ended {state}{detail}")
