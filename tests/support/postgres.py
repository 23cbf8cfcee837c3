"""A throwaway PostgreSQL database on the project's server (127.0.0.1:5432, trust auth).

For tests that run real servers on PostgreSQL: created empty (the servers migrate it) and
dropped, with any connection a killed server left behind, at the end.
"""

from __future__ import annotations

import contextlib
import getpass
import secrets
from collections.abc import Iterator

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

PG_HOST_PORT = "127.0.0.1:5432"
PG_ADMIN_DATABASE = "test"
PG_CONNECT_TIMEOUT_S = 5


def admin_engine() -> Engine:
    """An AUTOCOMMIT engine on the `test` database, as user postgres or the OS user."""
    errors = []
    for user in dict.fromkeys(["postgres", getpass.getuser()]):
        url = make_url(f"postgresql+psycopg://{user}@{PG_HOST_PORT}/{PG_ADMIN_DATABASE}")
        engine = create_engine(
            url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S}
        )
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return engine
        except OperationalError as exc:
            engine.dispose()
            errors.append(f"as {user}: {str(exc.orig).strip()}")
    raise RuntimeError(f"PostgreSQL at {PG_HOST_PORT} is required: " + "; ".join(errors))


@contextlib.contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """The URL of a new empty database, dropped on exit."""
    admin = admin_engine()
    name = f"{prefix}_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
