"""The rows of a job-like resource that a controller reconciles: tuning jobs, pipelines.

Each such resource is one row (its input fields as proto JSON, a state, times, an error)
plus a labels table. Every write is a compare-and-set on `revision`: the controller's pass
and a user's cancel may race, and the loser rereads and decides again. Each resource's
store (store/sql/tuning.py, pipelines.py) turns these rows into its own domain objects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, Row, delete, insert, select, update

from customjobs.domain.job import Operation
from customjobs.domain.query import Expr
from customjobs.domain.states import TERMINAL, JobState
from customjobs.store.base import Cursor
from customjobs.store.sql.engine import write_transaction
from customjobs.store.sql.filter_sql import Filtered, filter_clause
from customjobs.store.sql.store import labels_by_id, newest_first, operation_row
from customjobs.store.sql.tables import operations

T = TypeVar("T")
_TERMINAL = [s.value for s in TERMINAL]


class ResourceRows(Generic[T]):
    def __init__(
        self,
        engine: Engine,
        target: Filtered,
        writable: frozenset[str],
        decode: Callable[[Row[Any], dict[str, str]], T],
    ) -> None:
        # `decode` turns a row and its labels into the resource's domain object.
        self.engine = engine
        self.table = target.table
        self.labels = target.labels
        self.target = target
        self.writable = writable
        self.decode = decode

    def insert_row(self, values: dict[str, Any], labels: dict[str, str]) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(insert(self.table).values(**values))
            if labels:
                rows = [{"job_id": values["id"], "key": k, "value": v} for k, v in labels.items()]
                conn.execute(insert(self.labels), rows)

    def get(self, row_id: int) -> T | None:
        with self.engine.connect() as conn:
            found = self._decoded(
                conn, conn.execute(select(self.table).where(self.table.c.id == row_id)).all()
            )
        return found[0] if found else None

    def page(
        self, project: str, location: str, where: Expr | None, limit: int, after: Cursor | None
    ) -> list[T]:
        table = self.table
        query = select(table).where(table.c.project == project, table.c.location == location)
        if where is not None:
            query = query.where(filter_clause(where, self.target))
        with self.engine.connect() as conn:
            return self._decoded(conn, conn.execute(newest_first(query, table, limit, after)).all())

    def active(self) -> list[T]:
        """Every row that has not ended, oldest first: what a controller's pass reconciles."""
        query = (
            select(self.table).where(self.table.c.state.not_in(_TERMINAL)).order_by(self.table.c.create_us)
        )
        with self.engine.connect() as conn:
            return self._decoded(conn, conn.execute(query).all())

    def update(self, row_id: int, revision: int, now_us: int, **fields: Any) -> bool:
        """Write `fields` only if the row is still at `revision`; False when the race was lost."""
        unknown = set(fields) - self.writable
        if unknown:
            raise ValueError(f"not writable fields: {sorted(unknown)}")
        values = {**fields, "revision": revision + 1, "update_us": now_us}
        if isinstance(values.get("state"), JobState):
            values["state"] = values["state"].value
        table = self.table
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(table).where(table.c.id == row_id, table.c.revision == revision).values(**values)
            )
            return bool(result.rowcount == 1)

    def delete(self, row_id: int, operation: Operation) -> bool:
        """Delete a row that has ended and record its operation, in one transaction."""
        with write_transaction(self.engine) as conn:
            conn.execute(delete(self.labels).where(self.labels.c.job_id == row_id))
            result = conn.execute(
                delete(self.table).where(self.table.c.id == row_id, self.table.c.state.in_(_TERMINAL))
            )
            if result.rowcount != 1:
                conn.rollback()
                return False
            conn.execute(insert(operations).values(**operation_row(operation)))
        return True

    def _decoded(self, conn: Any, rows: Sequence[Row[Any]]) -> list[T]:
        labels = labels_by_id(conn, self.labels, rows)
        return [self.decode(r, labels[r.id]) for r in rows]
