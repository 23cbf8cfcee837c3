"""Fixtures for unit tests that need a real, migrated store without a server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from customjobs.store.sql.engine import make_engine, upgrade
from customjobs.store.sql.store import SqlStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    """A SqlStore on a fresh SQLite file, migrated to the newest revision."""
    engine = make_engine(f"sqlite:///{tmp_path}/store.db")
    upgrade(engine)
    yield SqlStore(engine)
    engine.dispose()
