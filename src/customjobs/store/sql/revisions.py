"""Which migration the database is at, and which is the newest: what /readyz reports.

A server whose database is behind the code (someone restored an old backup, or a peer has
not run `customjobs db upgrade` yet) must not say it is ready.
"""

from __future__ import annotations

from functools import cache

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from customjobs.store.sql.engine import alembic_config


@cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
