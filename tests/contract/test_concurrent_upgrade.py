"""Servers starting together on a fresh PostgreSQL database all migrate it, safely, once."""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, text

from customjobs.store.sql.engine import make_engine, upgrade
from customjobs.store.sql.revisions import current_revision, head_revision

SERVERS = 4


def test_concurrent_upgrades_of_a_fresh_database_all_succeed(pg_admin: Engine) -> None:
    name = f"cj_upgrade_{secrets.token_hex(6)}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_admin.url.set(database=name).render_as_string(hide_password=False)
    engines = [make_engine(url) for _ in range(SERVERS)]
    try:
        barrier = threading.Barrier(SERVERS)

        def start(engine: Engine) -> str | None:
            barrier.wait()
            upgrade(engine)
            return current_revision(engine)

        with ThreadPoolExecutor(SERVERS) as pool:
            revisions = list(pool.map(start, engines))

        assert revisions == [head_revision()] * SERVERS
    finally:
        for engine in engines:
            engine.dispose()
        with pg_admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
