"""The scheduler's read of the jobs waiting for placement, done every pass, reads the partial
index ix_custom_jobs_placing and not the plain queue (SQLite's own query plan says so)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, text

from customjobs.store.sql.engine import make_engine, upgrade
from customjobs.store.sql.store import SqlStore, placing_query
from customjobs.store.sql.tables import custom_jobs

QUEUED = 3000
PLACING = {7: 30, 1500: 10, 2999: 20}  # row -> its create_us: the answer is oldest first


@pytest.mark.parametrize("analyzed", [False, True])
def test_placing_read_is_a_range_of_its_partial_index(tmp_path: Path, analyzed: bool) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/plan.db")
    upgrade(engine)
    rows = [
        {
            "id": i,
            "project": "p",
            "location": "l",
            "display_name": f"job-{i}",
            "state": "JOB_STATE_QUEUED",
            "spec_json": "{}",
            "create_us": PLACING.get(i, 1_000 + i),
            "update_us": 0,
            "attempt": 0,
            "priority": 0,
            "allocation_json": '{"cpus": 1, "memoryGb": 1, "replicas": []}' if i in PLACING else None,
        }
        for i in range(QUEUED)
    ]
    with engine.begin() as conn:
        conn.execute(insert(custom_jobs), rows)
        if analyzed:
            conn.execute(text("ANALYZE"))
    sql = str(placing_query().compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        plan = [row[-1] for row in conn.execute(text("EXPLAIN QUERY PLAN " + sql))]
    assert plan[0].startswith("SEARCH custom_jobs USING INDEX ix_custom_jobs_placing"), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan
    store = SqlStore(engine)
    assert [job.id for job in store.placing_jobs()] == [1500, 2999, 7]
    engine.dispose()
