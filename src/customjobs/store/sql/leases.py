"""SqlLeaseStore: leases as one compare-and-set UPDATE, on SQLite and PostgreSQL alike.

`UPDATE leases ... WHERE name = :n AND (holder = :me OR expires_us <= :now)` is the whole
algorithm: PostgreSQL re-checks the WHERE of a blocked UPDATE against the row the winner
wrote, and SQLite serialises writers, so two racing servers never both match. Time is
the database's (PostgreSQL's clock_timestamp()); SQLite is one file on one host, whose
clock every server on it shares.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, Engine, case, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from customjobs.store.leases import Lease
from customjobs.store.sql.engine import write_transaction
from customjobs.store.sql.tables import leases

_PG_NOW_US = text("SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::bigint")


class SqlLeaseStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def try_acquire(self, name: str, holder: str, ttl_us: int, take_from: str | None = None) -> Lease | None:
        with write_transaction(self.engine) as conn:
            now = self.now_us(conn)
            self._ensure_row(conn, name)
            mine = leases.c.holder == holder
            free = mine | (leases.c.expires_us <= now)
            if take_from is not None:
                free = free | (leases.c.holder == take_from)
            result = conn.execute(
                update(leases)
                .where(leases.c.name == name, free)
                .values(
                    holder=holder,
                    expires_us=now + ttl_us,
                    epoch=case((mine, leases.c.epoch), else_=leases.c.epoch + 1),
                    acquired_us=case((mine, leases.c.acquired_us), else_=now),
                )
            )
            if result.rowcount != 1:
                return None
            row = conn.execute(select(leases).where(leases.c.name == name)).one()
            return _lease(row)

    def release(self, name: str, holder: str) -> bool:
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(leases).where(leases.c.name == name, leases.c.holder == holder).values(expires_us=0)
            )
            return bool(result.rowcount == 1)

    def current(self, name: str) -> Lease | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(leases).where(leases.c.name == name)).first()
        return None if row is None else _lease(row)

    def now_us(self, conn: Connection) -> int:
        if conn.dialect.name == "postgresql":
            return int(conn.execute(_PG_NOW_US).scalar_one())
        return time.time_ns() // 1000

    def _ensure_row(self, conn: Connection, name: str) -> None:
        """A free (long expired) row to compare-and-set against, created once."""
        values = {"name": name, "holder": "", "epoch": 0, "acquired_us": 0, "expires_us": 0}
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(dialect.insert(leases).values(**values).on_conflict_do_nothing(index_elements=["name"]))


def _lease(row: Any) -> Lease:
    return Lease(
        name=row.name,
        holder=row.holder,
        epoch=row.epoch,
        acquired_us=row.acquired_us,
        expires_us=row.expires_us,
    )
