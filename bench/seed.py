"""Fill a data dir's SQLite file with many finished jobs, fast, before its server starts.

Rows go straight in through the project's own engine setup, migrations and tables (the
same schema a server creates), in a few large transactions; the specs are real ones,
made by the wire codec from a create request's body.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.rest import LOCATION, PROJECT, job_body
from customjobs.config import Settings
from customjobs.resources.custom_jobs import codec
from customjobs.store.sql.engine import make_engine, upgrade
from customjobs.store.sql.store import SqlStore
from customjobs.store.sql.tables import custom_jobs, job_events, job_labels
from customjobs.wire.filters import parse_filter

BATCH_ROWS = 20_000
FIRST_CREATE_US = 1_700_000_000_000_000
CREATE_SPACING_US = 1_000
_ID_TOP_BIT = 1 << 62  # the layout of customjobs.names.new_id: 19 digits, growing with time
TEAMS = ("a", "b", "c", "d")
STATES = ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_SUCCEEDED", "JOB_STATE_CANCELLED")


def _spec_json() -> str:
    body = json.dumps(job_body(["true"])).encode()
    return codec.decode_new_job(codec.parse_custom_job(body, "v1"), PROJECT, LOCATION).spec_json


def _rows(start: int, stop: int, spec_json: str) -> tuple[list[dict[str, Any]], ...]:
    jobs, labels, events = [], [], []
    for i in range(start, stop):
        created = FIRST_CREATE_US + i * CREATE_SPACING_US
        job_id = _ID_TOP_BIT | ((created << 11) & (_ID_TOP_BIT - 1)) | (i & 0x7FF)
        state = STATES[i % len(STATES)]
        jobs.append(
            {
                "id": job_id,
                "project": PROJECT,
                "location": LOCATION,
                "display_name": f"seeded-{i}",
                "state": state,
                "spec_json": spec_json,
                "create_us": created,
                "update_us": created + 500,
                "start_us": created + 100,
                "end_us": created + 500,
                "attempt": 1,
            }
        )
        labels.append({"job_id": job_id, "key": "team", "value": TEAMS[(i // 7) % len(TEAMS)]})
        labels.append({"job_id": job_id, "key": "source", "value": "seed"})
        events.append({"job_id": job_id, "state": state, "time_us": created + 500, "message": None})
    return jobs, labels, events


def seed(data_dir: Path, count: int) -> None:
    """Create `data_dir` with `count` finished jobs in its store."""
    settings = Settings(data_dir=data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url, sqlite_synchronous="OFF")
    try:
        upgrade(engine)
        spec_json = _spec_json()
        for start in range(0, count, BATCH_ROWS):
            jobs, labels, events = _rows(start, min(count, start + BATCH_ROWS), spec_json)
            with engine.begin() as conn:
                conn.execute(insert(custom_jobs), jobs)
                conn.execute(insert(job_labels), labels)
                conn.execute(insert(job_events), events)
    finally:
        engine.dispose()


def matching(count: int, state: str, team: str) -> int:
    """How many seeded jobs a filter on one state and one team label selects."""
    return sum(
        1 for i in range(count) if STATES[i % len(STATES)] == state and TEAMS[(i // 7) % len(TEAMS)] == team
    )


def first_page(data_dir: Path, filter_text: str, page_size: int) -> int:
    """How many jobs the project's own store puts on the first page of a filtered list."""
    store = SqlStore(make_engine(Settings(data_dir=data_dir).db_url))
    try:
        return len(store.list_jobs(PROJECT, LOCATION, parse_filter(filter_text), page_size, None))
    finally:
        store.engine.dispose()
