"""When the job store cannot be reached or cannot write: one classification, one outage log.

Google's clients retry 503 UNAVAILABLE, never 500 INTERNAL, so a database that is down
(PostgreSQL killed, restarting, its network gone) or a SQLite file whose disk is full must
answer UNAVAILABLE. This module is the single place that decides which driver errors mean
that, and the store boundary where they become a domain error: watch() hooks the engine's
handle_error event, so every user of the engine (store, leases, /readyz's revision check)
gets StoreUnavailable, an ApiError that REST and gRPC already send as 503 UNAVAILABLE.

It also keeps the outage state, so the log says "store unreachable" once when an outage
begins and "store reachable again" once when it ends, however many requests fail between.
The end is seen passively, from the engine's own events: for a database that did not answer,
any statement that succeeds; for one that could not write (disk full: its reads still work),
only a transaction that wrote and committed.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext

from customjobs.errors import Unavailable

log = logging.getLogger(__name__)

# PostgreSQL SQLSTATEs that mean the server cannot serve now, whatever the statement: admin
# shutdown, crash shutdown, cannot connect now (starting up or in recovery); disk full, I/O error.
# Class 08 (connection exceptions) is matched by prefix. Not class 40 (serialization failure,
# deadlock) nor 55P03 (lock not available): psycopg calls those OperationalError too, but they
# concern one transaction, not the store.
_PG_DOWN = {"57P01", "57P02", "57P03"}
_PG_UNWRITABLE = {"53100": "its disk is full", "58030": "a disk I/O error"}

# Where the per-connection flags of the recovery check live (the pool entry's info dict).
_WROTE = "customjobs.outage.wrote"
_COMMITTING = "customjobs.outage.committing"


@dataclass(frozen=True)
class Fault:
    """Why the store is unavailable: the client's short reason, the driver's line for the log."""

    reason: str
    detail: str
    # True when the store answers reads but cannot write (disk full, I/O errors).
    unwritable: bool = False


class StoreUnavailable(Unavailable):
    """The job store cannot be reached or cannot write now; the request may be retried."""

    def __init__(self, fault: Fault) -> None:
        verb = "cannot write" if fault.unwritable else "is unreachable"
        super().__init__(f"The job store {verb}: {fault.reason}. Retry the request.")
        self.fault = fault


def classify(error: BaseException, is_disconnect: bool = False) -> Fault | None:
    """The fault a driver error means, or None when it is about this request alone."""
    detail = (str(error).strip().splitlines() or [type(error).__name__])[0]
    if isinstance(error, sqlite3.Error):
        name = getattr(error, "sqlite_errorname", "")
        if name == "SQLITE_FULL":
            return Fault("its disk is full", f"{detail} ({name})", unwritable=True)
        if name.startswith("SQLITE_IOERR"):
            return Fault("a disk I/O error", f"{detail} ({name})", unwritable=True)
        if name == "SQLITE_CANTOPEN":
            return Fault("the database file cannot be opened", f"{detail} ({name})")
        return None
    # psycopg (an optional extra): recognised by its attributes, so this imports without it.
    if type(error).__module__.startswith("psycopg"):
        sqlstate = getattr(error, "sqlstate", None)
        if sqlstate in _PG_UNWRITABLE:
            return Fault(_PG_UNWRITABLE[sqlstate], detail, unwritable=True)
        if sqlstate in _PG_DOWN:
            return Fault("the database server is shutting down or starting up", detail)
        # No SQLSTATE: the client library failed to connect or lost the connection.
        lost = sqlstate is None and type(error).__name__ == "OperationalError"
        if lost or (sqlstate or "").startswith("08"):
            return Fault("the database server cannot be reached", detail)
    if is_disconnect:
        return Fault("the connection to the database was lost", detail)
    return None


class StoreHealth:
    """The outage state of one engine; logs each start and end of an outage once."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.fault: Fault | None = None  # read without the lock: a stale answer is harmless
        self._since = self._last_failed = 0.0

    def failed(self, fault: Fault) -> None:
        with self._lock:
            self._last_failed = self._clock()
            if self.fault is None:
                self._since = self._last_failed
                log.error("store unreachable: %s", fault.detail)
            self.fault = fault  # the latest kind decides what ends the outage

    def failing(self, within_s: float) -> Fault | None:
        """The outage's fault if a request failed on it within the last within_s seconds.

        For a store that cannot write, whose end only a write shows: a server that is sent
        no writes (it is not ready, it holds no lease) must not stay unready for ever.
        """
        fault = self.fault
        if fault is None or self._clock() - self._last_failed >= within_s:
            return None
        return fault

    def recovered(self) -> None:
        with self._lock:
            if self.fault is None:
                return
            self.fault = None
            log.warning("store reachable again after %.1f s", self._clock() - self._since)


_HEALTH: weakref.WeakKeyDictionary[Engine, StoreHealth] = weakref.WeakKeyDictionary()


def health_of(engine: Engine) -> StoreHealth:
    """The outage state of an engine watch() was called on (a fresh, healthy one otherwise)."""
    return _HEALTH.setdefault(engine, StoreHealth())


def unavailable(engine: Engine, error: BaseException) -> StoreUnavailable | None:
    """For a driver error raised outside SQLAlchemy's Connection (store/sql/point_read.py):
    the StoreUnavailable its handle_error hook below would have raised, or None."""
    fault = classify(error)
    if fault is None:
        return None
    health_of(engine).failed(fault)
    return StoreUnavailable(fault)


def read_succeeded(engine: Engine) -> None:
    """A statement outside SQLAlchemy's Connection answered: what after_cursor_execute below
    concludes from a read."""
    health = health_of(engine)
    fault = health.fault
    if fault is not None and not fault.unwritable:
        health.recovered()


def write_committed(engine: Engine, changed: bool) -> None:
    """A transaction outside SQLAlchemy's Connection committed (store/sql/raw_writes.py):
    what the events below conclude from it. Only a commit that changed rows proves that a
    full disk has room again."""
    health = health_of(engine)
    fault = health.fault
    if fault is not None and (changed or not fault.unwritable):
        health.recovered()


def watch(engine: Engine) -> StoreHealth:
    """Turn the engine's outage errors into StoreUnavailable and track when outages end."""
    health = health_of(engine)

    @event.listens_for(engine, "handle_error")
    def _on_error(ctx: ExceptionContext) -> BaseException | None:
        if ctx.is_pre_ping:
            return None  # the pool reconnects by itself; a failed reconnect comes back here
        fault = classify(ctx.original_exception, ctx.is_disconnect)
        if fault is None:
            return None
        conn = ctx.connection
        if conn is not None and not conn.invalidated and not conn.closed and not ctx.is_disconnect:
            conn.info.pop(_COMMITTING, None)  # this commit failed: it proves nothing
            conn.info.pop(_WROTE, None)
        health.failed(fault)
        return StoreUnavailable(fault)

    @event.listens_for(engine, "after_cursor_execute")
    def _on_statement(conn: Any, cursor: Any, _stmt: Any, _params: Any, context: Any, _many: bool) -> None:
        fault = health.fault
        if fault is None:
            return
        if not fault.unwritable:
            health.recovered()
        elif _changed_rows(context, cursor):
            conn.info[_WROTE] = True  # proves the disk has room only once committed

    @event.listens_for(engine, "commit")
    def _on_commit(conn: Any) -> None:
        if conn.info.pop(_WROTE, False):
            conn.info[_COMMITTING] = True

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn: Any) -> None:
        if not conn.invalidated and not conn.closed:
            conn.info.pop(_WROTE, None)

    # A connection goes back to the pool after its commit returned: had the commit failed,
    # handle_error above would have cleared the flag first.
    @event.listens_for(engine.pool, "reset")
    def _on_reset(_dbapi_conn: Any, record: Any, _state: Any) -> None:
        info = record.info if record is not None else {}
        info.pop(_WROTE, None)
        if info.pop(_COMMITTING, False):
            health.recovered()

    return health


def _changed_rows(context: Any, cursor: Any) -> bool:
    """Whether a statement changed rows: Core DML says so; textual SQL returns no rows."""
    dml = context.isinsert or context.isupdate or context.isdelete or cursor.description is None
    return bool(dml and cursor.rowcount > 0)
