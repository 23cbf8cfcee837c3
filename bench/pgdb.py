"""A fresh PostgreSQL database per benchmark run, for `python -m bench --database URL`.

URL names a server and a database the bench may connect to (e.g.
`postgresql+psycopg://127.0.0.1:5432/test`); each run creates `bench_<pid>` beside it,
serves from that, and drops it after, so runs never see each other's rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def fresh_database(url: str, suffix: str = "") -> Iterator[str]:
    """The URL of a new, empty database on URL's server; dropped on exit."""
    base = make_url(url)
    name = f"bench_{os.getpid()}{suffix}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def describe(url: str) -> str:
    """The server a URL names, without its password: for the report's notes."""
    parsed = make_url(url)
    return f"{parsed.drivername}://{parsed.host or 'localhost'}:{parsed.port or 5432}"
