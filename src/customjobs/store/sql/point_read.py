"""One statement run on the driver's own cursor over a pooled connection, for the hottest
read of all: the get of one job, which every REST get and every client's poll makes.

SQLAlchemy's Connection and Result layers cost several times the query itself there
(about 200 µs against 40 µs on SQLite, measured on 2 cores). What they would give stays:
the statement is built and compiled by SQLAlchemy for the engine's dialect, the connection
comes from and goes back to its pool (which resets it), and a driver error is classified as
an outage (store/outage.py) as on any other statement. Used on SQLite only: on PostgreSQL a
dropped connection must be invalidated by SQLAlchemy's own error handling.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from sqlalchemy import Engine, Select

from customjobs.store import outage


class PointRead:
    def __init__(self, engine: Engine, statement: Select[Any]) -> None:
        compiled = statement.compile(dialect=engine.dialect)
        self._engine = engine
        self._sql = compiled.string
        self._positions = tuple(compiled.positiontup or ()) if compiled.positional else None
        # Rows answer by column name, as SQLAlchemy's do (`row.state`).
        self._row: Any = namedtuple("_Row", [c.key for c in statement.selected_columns])  # type: ignore[misc]

    def first(self, **params: Any) -> Any:
        """The first row of the statement bound to `params`, or None."""
        args: Any = params if self._positions is None else tuple(params[n] for n in self._positions)
        raw = self._engine.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                cursor.execute(self._sql, args)
                row = cursor.fetchone()
            finally:
                cursor.close()
        except Exception as exc:
            unavailable = outage.unavailable(self._engine, exc)
            if unavailable is None:
                raise
            raise unavailable from exc
        finally:
            raw.close()
        outage.read_succeeded(self._engine)
        return None if row is None else self._row._make(row)
