"""Listing a page reads an index range, not the whole table (SQLite's own query plan says so)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, text

from customjobs.store.base import Cursor
from customjobs.store.sql.engine import make_engine, upgrade
from customjobs.store.sql.store import list_query
from customjobs.store.sql.tables import custom_jobs, job_labels
from customjobs.wire.filters import parse_filter

STATES = ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_RUNNING")


@pytest.mark.parametrize(
    "filter_text",
    [
        "",
        'state="JOB_STATE_SUCCEEDED"',
        'state="JOB_STATE_FAILED" AND labels.team=b',
        "state!=JOB_STATE_RUNNING",
    ],
)
@pytest.mark.parametrize("after", [None, Cursor(1_000_500, 500)])
def test_list_page_uses_an_index_and_needs_no_sort(
    tmp_path: Path, filter_text: str, after: Cursor | None
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/plan.db")
    upgrade(engine)
    with engine.begin() as conn:
        rows = [
            {
                "id": i,
                "project": "p",
                "location": "l",
                "display_name": f"job-{i}",
                "state": STATES[i % 3],
                "spec_json": "{}",
                "create_us": 1_000_000 + i,
                "update_us": 0,
                "attempt": 0,
            }
            for i in range(3000)
        ]
        conn.execute(insert(custom_jobs), rows)
        conn.execute(
            insert(job_labels), [{"job_id": i, "key": "team", "value": "ab"[i % 2]} for i in range(3000)]
        )
        conn.execute(text("ANALYZE"))
    query = list_query("p", "l", parse_filter(filter_text), 101, after)
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        plan = [row[-1] for row in conn.execute(text("EXPLAIN QUERY PLAN " + sql))]
    main = plan[0]
    assert main.startswith("SEARCH custom_jobs USING") and "INDEX ix_custom_jobs_parent" in main, plan
    assert not any("TEMP B-TREE" in step for step in plan), plan
    assert not any(step.startswith("SCAN") for step in plan), plan
    engine.dispose()
