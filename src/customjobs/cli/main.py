"""The `customjobs` command line. `serve` runs the server; client commands come later.

Clients of the API never import the store or a backend; `serve` is the one command
that builds the runtime.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

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
def serve(
    host: str, port: int, data_dir: Path | None, database: str | None, stop_grace: float, log_level: str
) -> None:
    """Serve the Vertex AI CustomJobs REST API (under /v1 and /v1beta1)."""
    import uvicorn

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
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
