"""store/sql/filter_sql.py against a real SQLite file: which jobs does each filter select?"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, insert, select

from customjobs.domain.query import And, Compare, Field, Op, Or
from customjobs.errors import InvalidArgument
from customjobs.store.sql import tables
from customjobs.store.sql.filter_sql import filter_clause
from customjobs.wire.filters import parse_filter


def us(stamp: str) -> int:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return int((moment - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 1_000_000


# id: (display_name, state, created, labels); update_us is create_us + id hours.
JOBS: dict[int, tuple[str, str, str, dict[str, str]]] = {
    1: ("my_job", "JOB_STATE_SUCCEEDED", "2021-05-17T00:00:00Z", {"keyA": "valueA"}),
    2: ("my_job_1", "JOB_STATE_SUCCEEDED", "2021-05-19T00:00:00Z", {"keyB": "x"}),
    3: ("my_job_2", "JOB_STATE_FAILED", "2021-05-20T00:00:00Z", {"keyA": "other", "keyB": ""}),
    4: ("other", "JOB_STATE_RUNNING", "2021-05-18T00:00:00Z", {}),
    5: ("MY_JOB_X", "JOB_STATE_FAILED", "2021-06-01T00:00:00Z", {"team": "ml"}),
    6: ("myXjob", "JOB_STATE_QUEUED", "2021-04-01T00:00:00Z", {"team": "infra"}),
    7: ("50% off", "JOB_STATE_CANCELLED", "2021-04-02T00:00:00Z", {"a-b": "c"}),
    8: ("back\\slash", "JOB_STATE_PENDING", "2021-04-03T00:00:00Z", {}),
}
ALL = set(JOBS)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("filter_sql") / "jobs.db"
    eng = create_engine(f"sqlite:///{path}")

    @event.listens_for(eng, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA case_sensitive_like=ON")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    tables.metadata.create_all(eng)
    with eng.begin() as conn:
        for job_id, (name, state, created, labels) in JOBS.items():
            conn.execute(
                insert(tables.custom_jobs).values(
                    id=job_id,
                    project="p",
                    location="us-central1",
                    display_name=name,
                    state=state,
                    spec_json="{}",
                    create_us=us(created),
                    update_us=us(created) + job_id * 3_600_000_000,
                    attempt=0,
                )
            )
            for key, value in labels.items():
                conn.execute(insert(tables.job_labels).values(job_id=job_id, key=key, value=value))
    yield eng
    eng.dispose()


def ids(engine: Engine, text: str) -> set[int]:
    expr = parse_filter(text)
    assert expr is not None
    query = select(tables.custom_jobs.c.id).where(filter_clause(expr))
    with engine.connect() as conn:
        return set(conn.scalars(query))


CASES: list[tuple[str, set[int]]] = [
    # The documented examples.
    ('state="JOB_STATE_SUCCEEDED" AND display_name:"my_job_*"', {2}),
    ('state!="JOB_STATE_FAILED" OR display_name="my_job"', {1, 2, 4, 6, 7, 8}),
    ('NOT display_name="my_job"', ALL - {1}),
    ('create_time>"2021-05-18T00:00:00Z"', {2, 3, 5}),
    ("labels.keyA=valueA", {1}),
    ("labels.keyB:*", {2, 3}),
    # OR binds tighter than AND: SUCCEEDED AND (other OR has keyB), not (... AND other) OR keyB.
    ('state="JOB_STATE_SUCCEEDED" AND display_name="other" OR labels.keyB:*', {2}),
    ('(state="JOB_STATE_SUCCEEDED" AND display_name="other") OR labels.keyB:*', {2, 3}),
    # display_name: exact, glob, substring; case-sensitive; LIKE metacharacters are literal.
    ('display_name="my_job"', {1}),
    ('display_name!="my_job"', ALL - {1}),
    ('display_name="my_job_*"', {2, 3}),
    ('display_name="*job*"', {1, 2, 3, 6}),
    ('display_name="*_1"', {2}),
    ('display_name="my*"', {1, 2, 3, 6}),
    ('display_name!="my_job_*"', ALL - {2, 3}),
    ('display_name:"job"', {1, 2, 3, 6}),
    ('display_name:"my_job"', {1, 2, 3}),  # `_` is not a LIKE wildcard: myXjob is out
    ('display_name:"JOB"', {5}),
    ('display_name:"%"', {7}),
    ('display_name:"0% o"', {7}),
    ('display_name:"\\\\"', {8}),
    ('display_name="back\\\\slash"', {8}),
    ('display_name:"back\\\\*"', {8}),
    ("display_name:*", ALL),
    ('display_name:"my"', {1, 2, 3, 6}),
    ('display_name="my"', set()),
    # state
    ("state=JOB_STATE_FAILED", {3, 5}),
    ('state!="JOB_STATE_SUCCEEDED"', ALL - {1, 2}),
    # times: every comparison, offsets, update_time
    ('create_time="2021-05-18T00:00:00Z"', {4}),
    ('create_time="2021-05-18T05:30:00+05:30"', {4}),
    ('create_time!="2021-05-18T00:00:00Z"', ALL - {4}),
    ('create_time>="2021-05-18T00:00:00Z"', {2, 3, 4, 5}),
    ('create_time<"2021-05-18T00:00:00Z"', {1, 6, 7, 8}),
    ('create_time<="2021-05-18T00:00:00Z"', {1, 4, 6, 7, 8}),
    ('createTime>"2021-05-18T00:00:00.000001Z"', {2, 3, 5}),
    ('update_time="2021-05-18T04:00:00Z"', {4}),
    ('updateTime>"2021-05-20T02:00:00Z"', {3, 5}),
    # labels
    ("labels.keyA!=valueA", ALL - {1}),  # jobs without keyA match too
    ("labels.keyA:valueA", {1}),
    ('labels.keyB=""', {3}),
    ("labels:keyA", {1, 3}),
    ('labels."a-b"=c', {7}),
    ("labels.team:*", {5, 6}),
    ("labels.missing:*", set()),
    ("labels.team=nobody", set()),
    # boolean structure
    ("labels:keyA labels:keyB", {3}),
    ("-labels:keyA", ALL - {1, 3}),
    ('(state=JOB_STATE_FAILED OR state=JOB_STATE_RUNNING) AND create_time<"2021-05-25T00:00:00Z"', {3, 4}),
    ("NOT (labels:keyA OR labels:team)", {2, 4, 7, 8}),
    ('display_name:"my" -display_name:"job_"', {1, 6}),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_filter_selects(engine: Engine, text: str, expected: set[int]) -> None:
    assert ids(engine, text) == expected


def test_empty_boolean_nodes(engine: Engine) -> None:
    query = select(tables.custom_jobs.c.id)
    with engine.connect() as conn:
        assert set(conn.scalars(query.where(filter_clause(And(()))))) == ALL
        assert set(conn.scalars(query.where(filter_clause(Or(()))))) == set()


@pytest.mark.parametrize(
    "expr",
    [
        Compare(Field.DISPLAY_NAME, Op.LT, "a"),
        Compare(Field.STATE, Op.HAS, "JOB_STATE_RUNNING"),
        Compare(Field.CREATE_TIME, Op.HAS, 0),
        Compare(Field.CREATE_TIME, Op.EQ, "2021"),
        Compare(Field.LABELS, Op.EQ, "v"),  # no label_key
        Compare(Field.LABELS, Op.GT, "v", label_key="k"),
    ],
)
def test_unsupported_restrictions_are_rejected(expr: Compare) -> None:
    with pytest.raises(InvalidArgument):
        filter_clause(expr)
