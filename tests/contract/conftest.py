"""The `store` fixture: every contract test runs on a real SQLite file and a real PostgreSQL.

SQLite: a fresh migrated file per test. PostgreSQL must listen on 127.0.0.1:5432 (trust
auth, database `test`): the session migrates one throwaway database (CREATE DATABASE alone
takes 0.05-0.3 s, too slow per test) and every test starts on freshly truncated tables.
Without PostgreSQL the tests fail with a clear message: they never skip.
"""

from __future__ import annotations

import getpass
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from customjobs.store.sql import tables
from customjobs.store.sql.engine import make_engine, upgrade
from customjobs.store.sql.store import SqlStore

PG_HOST_PORT = "127.0.0.1:5432"
PG_ADMIN_DATABASE = "test"
PG_CONNECT_TIMEOUT_S = 5


def _pg_candidate_urls() -> list[URL]:
    users = dict.fromkeys(["postgres", getpass.getuser()])
    return [make_url(f"postgresql+psycopg://{user}@{PG_HOST_PORT}/{PG_ADMIN_DATABASE}") for user in users]


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
    """An AUTOCOMMIT engine on the `test` database, for CREATE/DROP DATABASE."""
    errors: list[str] = []
    for url in _pg_candidate_urls():
        engine = create_engine(
            url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S}
        )
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            engine.dispose()
            errors.append(f"  as {url.username}: {str(exc.orig).strip()}")
            continue
        yield engine
        engine.dispose()
        return
    pytest.fail(
        f"PostgreSQL at {PG_HOST_PORT} is required for the store contract tests "
        f"(database {PG_ADMIN_DATABASE!r}, trust auth, user 'postgres' or the current OS user); "
        "could not connect:\n" + "\n".join(errors),
        pytrace=False,
    )


def _sqlite_store(tmp_path: Path) -> Iterator[SqlStore]:
    engine = make_engine(f"sqlite:///{tmp_path}/store.db")
    upgrade(engine)
    yield SqlStore(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def pg_store(pg_admin: Engine) -> Iterator[SqlStore]:
    """One migrated throwaway database for the whole session, dropped at the end."""
    name = f"cj_contract_{secrets.token_hex(6)}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(pg_admin.url.set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(engine)
        yield SqlStore(engine)
    finally:
        engine.dispose()
        with pg_admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _emptied(store: SqlStore) -> SqlStore:
    """The store with every table of the schema emptied (the Alembic version is kept)."""
    names = ", ".join(f'"{table.name}"' for table in tables.metadata.sorted_tables)
    with store.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
    return store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A migrated SqlStore holding no rows: whatever an earlier test wrote is gone."""
    if request.param == "sqlite":
        yield from _sqlite_store(tmp_path)
    else:
        yield _emptied(request.getfixturevalue("pg_store"))
