"""Engine creation and schema migration for SQLite and PostgreSQL.

SQLite runs in WAL mode so readers never block the writer, with a busy timeout so
concurrent writers queue instead of failing, and case-sensitive LIKE so list filters
match the same way on both databases.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from customjobs.store import outage
from customjobs.store.sql.group_commit import GroupCommit
from customjobs.store.sql.raw_writes import Executes, RawTransactions

T = TypeVar("T")

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000


# Held (per transaction) while one server migrates: a second server starting at the same time
# waits, then finds the schema at head. The number is "customjo" in ASCII.
UPGRADE_LOCK_KEY = 0x637573746F6D6A6F


def normalise_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3, the driver the `postgres` extra installs."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url


# WAL with synchronous=NORMAL loses nothing when the server process dies (kill -9
# included): committed pages are in the OS's hands. Only a power loss or kernel crash may
# drop the last commits; FULL (about 0.4-0.8 ms more per commit here) covers that too.
DEFAULT_SQLITE_SYNCHRONOUS = "NORMAL"
# As many connections as Starlette's worker threads (40) plus the scheduler's, so requests
# never open and close overflow connections (each runs the PRAGMAs below).
POOL_SIZE = 48
# A PostgreSQL that does not answer (a dropped network, a host that is gone) must fail a
# request in seconds with 503 UNAVAILABLE, not hang it for the OS's TCP connect timeout.
# A `connect_timeout` in the URL wins.
PG_CONNECT_TIMEOUT_S = 5


_WRITERS: weakref.WeakKeyDictionary[Engine, GroupCommit] = weakref.WeakKeyDictionary()
_WRITERS_GUARD = threading.Lock()


def _writer(engine: Engine) -> GroupCommit:
    writer = _WRITERS.get(engine)  # every write asks: no lock once the writer exists
    if writer is not None:
        return writer
    with _WRITERS_GUARD:
        writer = _WRITERS.get(engine)
        if writer is None:
            writer = _WRITERS[engine] = GroupCommit(engine, RawTransactions(engine).begin)
        return writer


@contextlib.contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """`engine.begin()` for a transaction that writes. On SQLite, one at a time per process:
    SQLite has a single writer, and threads that race for it wait in its busy handler, which
    sleeps in growing steps (up to 100 ms) and leaves the file idle meanwhile; here they
    queue for this process's one writer (group_commit.py) and each starts the moment the
    last one commits. PostgreSQL writers run side by side, as its row locks allow."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    with _writer(engine).exclusive() as conn:
        yield conn


def write(engine: Engine, fn: Callable[[Executes], T]) -> T:
    """fn(conn) in a write transaction; returns once it is committed. On SQLite, writes that
    wait at the same time share one transaction (group_commit.py) on the driver's connection
    (raw_writes.py): fn may only call conn.execute(statement, params) and read the rowcount,
    and may run again if another write of its batch fails."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            return fn(conn)
    return _writer(engine).run(fn)


def make_engine(url: str, sqlite_synchronous: str = DEFAULT_SQLITE_SYNCHRONOUS) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            pool_size=POOL_SIZE,
            max_overflow=16,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={sqlite_synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA case_sensitive_like=ON")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.close()

    else:
        engine = create_engine(
            url, pool_size=8, max_overflow=32, pool_pre_ping=True, connect_args=_connect_args(url)
        )
    # A database that is down or a disk that is full answers 503 UNAVAILABLE (store/outage.py).
    outage.watch(engine)
    return engine


def _connect_args(url: str) -> dict[str, Any]:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or "connect_timeout" in parsed.query:
        return {}
    return {"connect_timeout": PG_CONNECT_TIMEOUT_S}


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration; a no-op when it already is."""
    cfg = alembic_config(str(engine.url.render_as_string(hide_password=False)))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Migrations run in this one transaction (PostgreSQL's DDL is transactional), so the
            # lock is held until the new schema is committed.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK_KEY})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
