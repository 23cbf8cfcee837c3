"""Alembic migrations build exactly the schema in store/sql/tables.py, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from customjobs.domain.job import NewJob
from customjobs.domain.states import JobState
from customjobs.store.sql import tables
from customjobs.store.sql.engine import alembic_config, upgrade
from customjobs.store.sql.store import SqlStore


def schema_diff(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, tables.metadata))


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    url = engine.url.render_as_string(hide_password=False)
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def test_upgraded_schema_matches_tables(store: SqlStore) -> None:
    assert current_revision(store.engine) == head_revision(store.engine)
    assert schema_diff(store.engine) == []


def test_upgrade_twice_is_a_no_op(store: SqlStore) -> None:
    job = store.insert_job(
        1, NewJob("p", "l", "kept", {"team": "ml"}, "{}"), JobState.QUEUED, 1_700_000_000_000_000
    )
    head = current_revision(store.engine)

    upgrade(store.engine)

    assert current_revision(store.engine) == head == head_revision(store.engine)
    assert schema_diff(store.engine) == []
    assert store.get_job(1) == job
