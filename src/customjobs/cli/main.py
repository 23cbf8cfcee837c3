"""The `customjobs` command line. `serve` runs the server; client commands come later.

Clients of the API never import the store or a backend; `serve` is the one command
that builds the runtime.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from customjobs.cli.jobs import jobs
from customjobs.config import DEFAULT_HOST, DEFAULT_PORT, Settings, default_data_dir, env_database_url


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
    "--log-level", default="info", show_default=True, type=click.Choice(["debug", "info", "warning"])
)
@click.option("--grpc-port", default=None, type=int, help="Also serve gRPC on this port [default: off].")
@click.option("--grpc-tls", is_flag=True, help="Serve gRPC over TLS [default cert: self-signed].")
@click.option("--tls-cert", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tls-key", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def serve(
    host: str,
    port: int,
    data_dir: Path | None,
    database: str | None,
    stop_grace: float,
    log_level: str,
    grpc_port: int | None,
    grpc_tls: bool,
    tls_cert: Path | None,
    tls_key: Path | None,
) -> None:
    """Serve the Vertex AI CustomJobs REST API (under /v1 and /v1beta1), and gRPC if asked."""
    import uvicorn

    if grpc_tls and grpc_port is None:
        raise click.UsageError("--grpc-tls needs --grpc-port.")
    if (tls_cert is None) != (tls_key is None) or (tls_cert is not None and not grpc_tls):
        raise click.UsageError("--tls-cert and --tls-key go together, with --grpc-tls.")

    from customjobs.api.rest.app import create_app
    from customjobs.runtime import build_runtime

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings(
        data_dir=data_dir or default_data_dir(),
        host=host,
        port=port,
        database_url=database or env_database_url(),
        stop_grace_s=stop_grace,
    )
    runtime = build_runtime(settings)
    click.echo(f"customjobs: serving http://{host}:{port}/v1 (data in {settings.data_dir})", err=True)
    config = uvicorn.Config(
        create_app(runtime), host=host, port=port, log_level="warning", access_log=False, lifespan="on"
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
        uvicorn.Server(config).run()
    finally:
        if grpc_server is not None:
            grpc_serving.stop(grpc_server)


main.add_command(jobs)


if __name__ == "__main__":
    main()
