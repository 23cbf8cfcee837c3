"""The `store` fixture: every contract test runs on a real SQLite file and a real PostgreSQL.

PostgreSQL must listen on 127.0.0.1:5432 (trust auth, database `test`). Each test gets a
throwaway database of its own (creating one, migrating it and dropping it takes ~0.1 s),
so tests never see each other's rows. Without PostgreSQL the tests fail: they never skip.
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


def _postgresql_store(admin: Engine) -> Iterator[SqlStore]:
    name = f"cj_contract_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(admin.url.set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(engine)
        yield SqlStore(engine)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A migrated, empty SqlStore on a database of this test's own."""
    if request.param == "sqlite":
        yield from _sqlite_store(tmp_path)
    else:
        yield from _postgresql_store(request.getfixturevalue("pg_admin"))
