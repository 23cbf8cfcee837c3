"""`customjobs db`: schema migrations, run by an operator before (or instead of) server start.

Servers also upgrade when they start (under a PostgreSQL advisory lock, so several starting
at once are safe); this command lets a deploy migrate first and start servers after.
"""

from __future__ import annotations

from pathlib import Path

import click

from customjobs.config import Settings, default_data_dir, env_database_url

_DATABASE = click.option(
    "--database",
    default=None,
    help="SQLAlchemy URL [default: $CUSTOMJOBS_DATABASE_URL, else SQLite in the data dir].",
)
_DATA_DIR = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the SQLite file lives when no --database is given.",
)


def _url(database: str | None, data_dir: Path | None) -> str:
    settings = Settings(data_dir=data_dir or default_data_dir(), database_url=database or env_database_url())
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings.db_url


@click.group()
def db() -> None:
    """Database schema: upgrade to the newest migration, or show where it is."""


@db.command()
@_DATABASE
@_DATA_DIR
def upgrade(database: str | None, data_dir: Path | None) -> None:
    """Run every migration the database lacks (a no-op when it is at head)."""
    from customjobs.store.sql.engine import make_engine
    from customjobs.store.sql.engine import upgrade as run_upgrade
    from customjobs.store.sql.revisions import current_revision

    engine = make_engine(_url(database, data_dir))
    try:
        before = current_revision(engine)
        run_upgrade(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"database already at {after}")
    else:
        click.echo(f"database upgraded from {before or 'empty'} to {after}")


@db.command()
@_DATABASE
@_DATA_DIR
def current(database: str | None, data_dir: Path | None) -> None:
    """Print the database's migration and the newest one this version knows."""
    from customjobs.store.sql.engine import make_engine
    from customjobs.store.sql.revisions import current_revision, head_revision

    engine = make_engine(_url(database, data_dir))
    try:
        click.echo(f"current: {current_revision(engine) or 'empty'}\nhead: {head_revision()}")
    finally:
        engine.dispose()
