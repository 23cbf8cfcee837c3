"""Which driver errors mean "the store is unavailable", and the once-per-outage log.

The errors are the drivers' own: real SQLite errors from real files, psycopg's exception
classes as the driver raises them (each carries its SQLSTATE). The full outages, with a
PostgreSQL killed and a disk filled, are in tests/e2e/test_store_outage.py.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import psycopg
import psycopg.errors
import pytest
from sqlalchemy import text

from customjobs.errors import RpcCode
from customjobs.store.outage import Fault, StoreHealth, StoreUnavailable, classify
from customjobs.store.sql.engine import make_engine


def sqlite_error(tmp_path: Path, statement: str) -> sqlite3.Error:
    with pytest.raises(sqlite3.Error) as raised:
        conn = sqlite3.connect(tmp_path / "x.db")
        try:
            conn.execute(statement)
        finally:
            conn.close()
    return raised.value


def test_connection_loss_and_shutdowns_are_outages() -> None:
    refused = psycopg.OperationalError('connection failed: connection to server at "h", port 1 failed')
    for error in (refused, psycopg.errors.AdminShutdown(), psycopg.errors.CannotConnectNow()):
        fault = classify(error)
        assert fault is not None and not fault.unwritable, error
    lost = classify(psycopg.errors.ConnectionFailure("server closed the connection unexpectedly"))
    assert lost == Fault("the database server cannot be reached", "server closed the connection unexpectedly")


def test_a_full_disk_is_an_outage_of_writes() -> None:
    fault = classify(psycopg.errors.DiskFull("could not extend file"))
    assert fault is not None and fault.unwritable and fault.reason == "its disk is full"


def test_errors_of_one_transaction_are_not_outages(tmp_path: Path) -> None:
    # psycopg calls these OperationalError too, but retrying the one request is the answer.
    for error in (psycopg.errors.SerializationFailure(), psycopg.errors.LockNotAvailable()):
        assert classify(error) is None
    assert classify(sqlite_error(tmp_path, "SELECT * FROM no_such_table")) is None
    assert classify(ValueError("not a driver error")) is None


def test_an_unopenable_sqlite_file_is_an_outage(tmp_path: Path) -> None:
    with pytest.raises(sqlite3.Error) as raised:
        sqlite3.connect(tmp_path / "missing-dir" / "x.db")
    fault = classify(raised.value)
    assert fault is not None and "cannot be opened" in fault.reason


def test_the_engine_raises_store_unavailable_with_googles_code(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/gone/x.db")
    with pytest.raises(StoreUnavailable) as raised, engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert raised.value.code is RpcCode.UNAVAILABLE
    assert raised.value.message == (
        "The job store is unreachable: the database file cannot be opened. Retry the request."
    )
    engine.dispose()


def test_an_outage_is_logged_once_at_each_end(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    health = StoreHealth(clock=lambda: now[0])
    down = Fault("the database server cannot be reached", "connection refused")
    with caplog.at_level(logging.INFO, logger="customjobs.store.outage"):
        for _ in range(50):
            health.failed(down)
        now[0] = 112.5
        for _ in range(5):
            health.recovered()
    assert [r.getMessage() for r in caplog.records] == [
        "store unreachable: connection refused",
        "store reachable again after 12.5 s",
    ]
    assert health.fault is None


def test_a_write_that_fails_is_remembered_for_a_while_only() -> None:
    """/readyz's view of a full disk: a server that gets no writes does not stay unready."""
    now = [0.0]
    health = StoreHealth(clock=lambda: now[0])
    full = Fault("its disk is full", "database or disk is full (SQLITE_FULL)", unwritable=True)
    health.failed(full)
    now[0] = 9.0
    assert health.failing(10.0) == full
    now[0] = 10.0
    assert health.failing(10.0) is None
    assert health.fault == full  # the outage itself ends only with a write that commits
    health.failed(full)
    assert health.failing(10.0) == full
