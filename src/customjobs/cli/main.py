"""The `customjobs` command line. `serve` runs the server; client commands come later.

Clients of the API never import the store or a backend; `serve` is the one command
that builds the runtime.
"""

from __future__ import annotations

from pathlib import Path

import click

from customjobs.cli.backend_options import BackendOptions, backend_options
from customjobs.cli.capacity_options import CapacityOptions, capacity_options
from customjobs.cli.db import db
from customjobs.cli.jobs import jobs
from customjobs.cli.keys import keys
from customjobs.cli.models import models
from customjobs.cli.pipelines import pipelines
from customjobs.cli.security_options import security_options, tls_files_for
from customjobs.cli.tuning import tuning
from customjobs.config import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    Settings,
    default_data_dir,
    env_container_global_flags,
    env_container_run_flags,
    env_database_url,
    split_flags,
)
from customjobs.security.settings import SecurityConfigError, SecuritySettings


@click.group()
@click.version_option(package_name="customjobs")
def main() -> None:
    """A self-hosted server for Vertex AI CustomJobs."""


@main.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Interface to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int, help="REST port.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where jobs, logs and the SQLite file live [default: $CUSTOMJOBS_DATA_DIR or the user data folder].",
)
@click.option(
    "--database", default=None, help="SQLAlchemy URL of the store [default: SQLite in the data dir]."
)
@click.option(
    "--stop-grace", default=5.0, show_default=True, type=float, help="Seconds from SIGTERM to SIGKILL."
)
@click.option(
    "--sqlite-synchronous",
    default="normal",
    show_default=True,
    type=click.Choice(["normal", "full"]),
    help="SQLite durability: normal survives a killed server; full also a power loss (slower commits).",
)
@click.option(
    "--log-level", default="info", show_default=True, type=click.Choice(["debug", "info", "warning"])
)
@click.option("--log-format", default="text", show_default=True, type=click.Choice(["text", "json"]))
@click.option(
    "--jobs-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Replicas' logs, pid and exit files [default: DATA_DIR/jobs]; servers sharing a database share it.",
)
@click.option(
    "--lease-ttl",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0.5),
    help="Seconds a scheduler lease lasts unrenewed: how soon a peer takes over from a dead server.",
)
@click.option(
    "--local-takeover/--no-local-takeover",
    default=True,
    show_default=True,
    help="Take over at once a lease whose holder ran on this host and died, rather than at its expiry.",
)
@click.option(
    "--drain-grace",
    default=0.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="After SIGTERM, seconds to keep answering (creates get 503) before exiting.",
)
@click.option("--grpc-port", default=None, type=int, help="Also serve gRPC on this port [default: off].")
@click.option("--grpc-tls", is_flag=True, help="Serve gRPC over TLS [default cert: self-signed].")
@click.option("--tls-cert", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tls-key", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--runtime",
    "runtime_name",
    default="process",
    show_default=True,
    type=click.Choice(["process", "podman", "docker", "auto"]),
    help="Run replicas as host processes or containers (auto: podman, else docker, else process).",
)
@click.option(
    "--container-global-flags",
    default=None,
    help="Flags before the container CLI's verb, e.g. '--runtime runc --cgroup-manager=cgroupfs' "
    "[default: $CUSTOMJOBS_CONTAINER_GLOBAL_FLAGS].",
)
@click.option(
    "--container-run-flags",
    default=None,
    help="Extra flags for `run` [default: $CUSTOMJOBS_CONTAINER_RUN_FLAGS].",
)
@click.option("--container-pull", is_flag=True, help="Pull images that are not present locally.")
@click.option(
    "--buckets-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where gs://BUCKET/PATH lives, as BUCKETS_DIR/BUCKET/PATH [default: DATA_DIR/buckets].",
)
@click.option(
    "--base-url",
    default=None,
    help="This server's URL as replicas reach it (their STORAGE_EMULATOR_HOST) [default: http://HOST:PORT].",
)
@backend_options
@capacity_options
@security_options
def serve(
    host: str,
    port: int,
    data_dir: Path | None,
    database: str | None,
    stop_grace: float,
    sqlite_synchronous: str,
    log_level: str,
    log_format: str,
    jobs_dir: Path | None,
    lease_ttl: float,
    local_takeover: bool,
    drain_grace: float,
    grpc_port: int | None,
    grpc_tls: bool,
    tls_cert: Path | None,
    tls_key: Path | None,
    runtime_name: str,
    container_global_flags: str | None,
    container_run_flags: str | None,
    container_pull: bool,
    buckets_dir: Path | None,
    base_url: str | None,
    backend: BackendOptions,
    capacity: CapacityOptions,
    security: SecuritySettings,
) -> None:
    """Serve the Vertex AI CustomJobs REST API (under /v1 and /v1beta1), and gRPC if asked."""
    import uvicorn

    if grpc_tls and grpc_port is None:
        raise click.UsageError("--grpc-tls needs --grpc-port.")
    if (tls_cert is None) != (tls_key is None) or (
        tls_cert is not None and not (grpc_tls or security.rest_tls)
    ):
        raise click.UsageError("--tls-cert and --tls-key go together, with --grpc-tls or --rest-tls.")
    # Imported here: the security stack (JWT, cryptography) is for serving, not for `jobs list`.
    from customjobs.security.setup import check_exposure

    try:
        check_exposure(host, security)
    except SecurityConfigError as exc:
        raise click.UsageError(str(exc)) from exc

    from customjobs.api.rest.app import create_app
    from customjobs.cli.graceful import GracefulServer
    from customjobs.runtime import build_runtime
    from customjobs.telemetry import logformat

    logformat.configure(log_level, log_format)
    settings = Settings(
        data_dir=data_dir or default_data_dir(),
        host=host,
        port=port,
        database_url=database or env_database_url(),
        stop_grace_s=stop_grace,
        sqlite_synchronous=sqlite_synchronous.upper(),
        jobs_dir_override=jobs_dir,
        buckets_dir_override=buckets_dir,
        base_url=base_url,
        lease_ttl_s=lease_ttl,
        lease_local_takeover=local_takeover,
        drain_grace_s=drain_grace,
        runtime=runtime_name,
        container_runtime_flags=split_flags(container_global_flags or env_container_global_flags()),
        container_run_flags=split_flags(container_run_flags or env_container_run_flags()),
        container_pull=container_pull,
        **backend.settings(),
        **capacity.settings(),
        security=security,
    )
    from customjobs.execution.backends.base import BackendUnavailable

    try:
        runtime = build_runtime(settings)
    except (SecurityConfigError, BackendUnavailable) as exc:
        raise click.ClickException(str(exc)) from exc
    rest_tls = tls_files_for(settings, tls_cert, tls_key) if security.rest_tls else None
    scheme = "https" if rest_tls else "http"
    click.echo(f"customjobs: serving {scheme}://{host}:{port}/v1 (data in {settings.data_dir})", err=True)
    config = uvicorn.Config(
        create_app(runtime),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        # JSON logs: uvicorn's loggers go through the root handler instead of their own.
        log_config=None if log_format == "json" else uvicorn.config.LOGGING_CONFIG,
        ssl_certfile=str(rest_tls.cert) if rest_tls else None,
        ssl_keyfile=str(rest_tls.key) if rest_tls else None,
    )
    grpc_server = None
    if grpc_port is not None:
        import shlex

        from customjobs.api.grpc import server as grpc_serving
        from customjobs.api.grpc import tls
        from customjobs.api.vertex import VertexApi

        tls_files = tls.resolve(settings.data_dir, tls_cert, tls_key) if grpc_tls else None
        try:
            grpc_server = grpc_serving.start(VertexApi(runtime), host, grpc_port, tls_files)
        except OSError as exc:
            raise click.ClickException(str(exc)) from exc
        where = grpc_serving.address(host, grpc_port)
        click.echo(f"customjobs: serving gRPC ({'TLS' if tls_files else 'plaintext'}) on {where}", err=True)
        if tls_files is not None and tls_files.self_signed:
            roots = shlex.quote(str(tls_files.cert))
            click.echo(f"export GRPC_DEFAULT_SSL_ROOTS_FILE_PATH={roots}", err=True)
    try:
        GracefulServer(config, runtime, settings.drain_grace_s).run()
    finally:
        if grpc_server is not None:
            grpc_serving.stop(grpc_server)


main.add_command(jobs)
main.add_command(tuning)
main.add_command(pipelines)
main.add_command(models)
main.add_command(keys)
main.add_command(db)


if __name__ == "__main__":
    main()
