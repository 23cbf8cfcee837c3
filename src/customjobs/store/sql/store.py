"""SqlStore: the Store protocol on SQLAlchemy Core, for SQLite and PostgreSQL alike.

Every state change is one compare-and-set UPDATE (`WHERE state = expected`) plus its
history row, in one transaction: two writers racing on a job can never both win.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Row,
    Select,
    Table,
    Text,
    Update,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    tuple_,
    update,
)

from customjobs.domain.job import Job, NewJob, Operation, Outcome, StateEvent
from customjobs.domain.placement import JobAllocation
from customjobs.domain.query import Expr
from customjobs.domain.states import TERMINAL, JobState
from customjobs.store.base import AttemptClaim, Cursor, JobScope, StateChange
from customjobs.store.sql.engine import write, write_transaction
from customjobs.store.sql.filter_sql import filter_clause
from customjobs.store.sql.point_read import PointRead
from customjobs.store.sql.raw_writes import Executes
from customjobs.store.sql.tables import PLACING_WHERE, custom_jobs, job_events, job_labels, operations

_RUNTIME_FIELDS = {
    "attempt",
    "handle",
    "outcome",
    "stop_requested_us",
    "web_access_uris",
    "allocation",
    "queue_reason",
}


class SqlStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # WAL readers see the last commit without waiting for the writer (store/base.py).
        self.reads_are_local = engine.dialect.name == "sqlite"
        self._get_job = _get_job_statement(engine.dialect.name)
        self._get_job_fast = PointRead(engine, self._get_job) if self.reads_are_local else None

    # jobs -----------------------------------------------------------------

    def insert_job(self, job_id: int, new: NewJob, state: JobState, now_us: int) -> Job:
        row = {
            "id": job_id,
            "project": new.project,
            "location": new.location,
            "display_name": new.display_name,
            "state": state.value,
            "spec_json": new.spec_json,
            "create_us": now_us,
            "update_us": now_us,
            "attempt": 0,
            "priority": new.priority,
            "owner": new.owner,
        }
        labels = [{"job_id": job_id, "key": k, "value": v} for k, v in new.labels.items()]
        event = {"job_id": job_id, "state": state.value, "time_us": now_us, "message": None}

        def insert_rows(conn: Executes) -> None:
            conn.execute(_INSERT_JOB, row)
            if labels:
                conn.execute(_INSERT_LABELS, labels)
            conn.execute(_INSERT_EVENT, event)

        write(self.engine, insert_rows)
        return Job(
            id=job_id,
            project=new.project,
            location=new.location,
            display_name=new.display_name,
            state=state,
            spec_json=new.spec_json,
            create_us=now_us,
            update_us=now_us,
            labels=dict(new.labels),
            owner=new.owner,
        )

    def get_job(self, job_id: int) -> Job | None:
        # The hottest read (every get, every poll): statements built once, bound per call.
        if self._get_job_fast is not None:
            row = self._get_job_fast.first(job_id=job_id)
        else:
            with self.engine.connect() as conn:
                row = conn.execute(self._get_job, {"job_id": job_id}).first()
        return None if row is None else _job(row, json.loads(row.labels_json or "{}"))

    def list_jobs(
        self, project: str, location: str, where: Expr | None, limit: int, after: Cursor | None
    ) -> list[Job]:
        query = list_query(project, location, where, limit, after)
        with self.engine.connect() as conn:
            return self._with_labels(conn, conn.execute(query).all())

    def jobs_in_states(self, states: frozenset[JobState]) -> list[Job]:
        query = select(custom_jobs).where(custom_jobs.c.state.in_([s.value for s in states]))
        with self.engine.connect() as conn:
            return self._with_labels(conn, conn.execute(query.order_by(custom_jobs.c.create_us)).all())

    def placing_jobs(self) -> list[Job]:
        with self.engine.connect() as conn:
            return self._with_labels(conn, conn.execute(placing_query()).all())

    # the head of the queue (execution/scheduler/queue_head.py) ------------------
    # Each read is one probe or range scan of ix_custom_jobs_queue (state, priority,
    # create_us, id), one short connection each: a pass that stops early leaves nothing open.

    def top_queued_priority(self, below: int | None) -> int | None:
        c = custom_jobs.c
        query = select(func.max(c.priority)).where(c.state == JobState.QUEUED.value)
        if below is not None:
            query = query.where(c.priority < below)
        with self.engine.connect() as conn:
            top = conn.execute(query).scalar()
        return None if top is None else int(top)

    def queued_page(self, priority: int, after: tuple[int, int] | None, limit: int) -> list[Job]:
        c = custom_jobs.c
        query = select(custom_jobs).where(c.state == JobState.QUEUED.value, c.priority == priority)
        if after is not None:
            query = query.where(tuple_(c.create_us, c.id) > tuple_(*after))
        with self.engine.connect() as conn:
            return self._with_labels(conn, conn.execute(query.order_by(c.create_us, c.id).limit(limit)).all())

    def change_state(self, change: StateChange) -> bool:
        return self.change_states([change])[0]

    def change_states(self, changes: Sequence[StateChange]) -> list[bool]:
        """Each change a compare-and-set of its own, all in one write (one commit)."""
        compiled = [_compiled_change(change) for change in changes]

        def compare_and_set(conn: Executes) -> list[bool]:
            applied = []
            for statement, params, event in compiled:
                moved = conn.execute(statement, params).rowcount == 1
                if moved:
                    conn.execute(_INSERT_EVENT, event)
                applied.append(moved)
            return applied

        return write(self.engine, compare_and_set) if compiled else []

    def update_runtime(self, job_id: int, expected: JobState | None, **fields: Any) -> bool:
        unknown = set(fields) - _RUNTIME_FIELDS
        if unknown:
            raise ValueError(f"not runtime fields: {sorted(unknown)}")
        where: dict[str, Any] = {"id": job_id, "state": _ACTIVE if expected is None else expected.value}
        return self._update_one(*_job_update(_runtime_columns(fields), where))

    def claim_attempt(
        self, job_id: int, expected: JobState, attempt: int, allocation: JobAllocation | None = None
    ) -> bool:
        return self.claim_attempts([AttemptClaim(job_id, expected, attempt, allocation)])[0]

    def claim_attempts(self, claims: Sequence[AttemptClaim]) -> list[bool]:
        """Each claim a compare-and-set of its own, all in one write (one commit)."""
        compiled = []
        for claim in claims:
            values: dict[str, Any] = {"attempt": claim.attempt + 1}
            if claim.allocation is not None:
                values.update(_runtime_columns({"allocation": claim.allocation}))
            where = {
                "id": claim.job_id,
                "state": claim.expected.value,
                "attempt": claim.attempt,
                "handle_json": None,
            }
            compiled.append(_job_update(values, where))

        def compare_and_set(conn: Executes) -> list[bool]:
            return [conn.execute(statement, params).rowcount == 1 for statement, params in compiled]

        return write(self.engine, compare_and_set) if compiled else []

    def attach_handle(self, job_id: int, attempt: int, handle: dict[str, Any]) -> bool:
        values = _runtime_columns({"handle": handle})
        return self._update_one(*_job_update(values, {"id": job_id, "attempt": attempt, "state": _ACTIVE}))

    def _update_one(self, statement: Update, params: dict[str, Any]) -> bool:
        """A compare-and-set of one job's row: whether it applied."""
        return write(self.engine, lambda conn: bool(conn.execute(statement, params).rowcount == 1))

    def queue_positions(self, job_ids: Sequence[int]) -> dict[int, int]:
        """Each QUEUED job's place in the queue's order (priority, then first come first served)."""
        if not job_ids:
            return {}
        c = custom_jobs.c
        queued = c.state == JobState.QUEUED.value
        with self.engine.connect() as conn:
            if len(job_ids) > _COUNTED_POSITIONS:
                # A page of jobs: one pass over the queue, numbered by the database.
                place = func.row_number().over(order_by=(c.priority.desc(), c.create_us, c.id))
                numbered = select(c.id, place.label("place")).where(queued).subquery()
                query = select(numbered.c.id, numbered.c.place).where(numbered.c.id.in_(job_ids))
                return {int(job_id): int(n) for job_id, n in conn.execute(query)}
            # A few jobs (a GET): how many are ahead of each, counted over the queue's index,
            # never the queue itself read: a long queue costs one range count per job.
            positions = {}
            keys = select(c.id, c.priority, c.create_us).where(c.id.in_(job_ids), queued)
            for job_id, priority, create_us in conn.execute(keys).all():
                higher = select(func.count()).where(queued, c.priority > priority).scalar_subquery()
                same = tuple_(c.create_us, c.id) < tuple_(create_us, job_id)
                earlier = select(func.count()).where(queued, c.priority == priority, same).scalar_subquery()
                positions[int(job_id)] = int(conn.execute(select(higher + earlier)).scalar_one()) + 1
            return positions

    def count_by_state(self) -> dict[JobState, int]:
        query = select(custom_jobs.c.state, func.count()).group_by(custom_jobs.c.state)
        with self.engine.connect() as conn:
            return {JobState(state): int(n) for state, n in conn.execute(query)}

    def events(self, job_id: int) -> list[StateEvent]:
        query = select(job_events).where(job_events.c.job_id == job_id).order_by(job_events.c.seq)
        with self.engine.connect() as conn:
            return [
                StateEvent(state=JobState(r.state), time_us=r.time_us, message=r.message)
                for r in conn.execute(query)
            ]

    def delete_job(self, job_id: int, operation: Operation, terminal: frozenset[JobState]) -> bool:
        with write_transaction(self.engine) as conn:
            conn.execute(delete(job_labels).where(job_labels.c.job_id == job_id))
            conn.execute(delete(job_events).where(job_events.c.job_id == job_id))
            result = conn.execute(
                delete(custom_jobs).where(
                    custom_jobs.c.id == job_id, custom_jobs.c.state.in_([s.value for s in terminal])
                )
            )
            if result.rowcount != 1:
                conn.rollback()
                return False
            conn.execute(insert(operations).values(**operation_row(operation)))
        return True

    def delete_owned(self, owner: str, terminal: frozenset[JobState]) -> list[int]:
        """Delete the ended executions `owner` started (a deleted tuning job's trials); their ids."""
        ended = [s.value for s in terminal]
        with write_transaction(self.engine) as conn:
            query = select(custom_jobs.c.id).where(
                custom_jobs.c.owner == owner, custom_jobs.c.state.in_(ended)
            )
            ids = [row.id for row in conn.execute(query)]
            if ids:
                conn.execute(delete(job_labels).where(job_labels.c.job_id.in_(ids)))
                conn.execute(delete(job_events).where(job_events.c.job_id.in_(ids)))
                conn.execute(delete(custom_jobs).where(custom_jobs.c.id.in_(ids)))
        return ids

    # operations -------------------------------------------------------------

    def get_operation(self, op_id: int) -> Operation | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(operations).where(operations.c.id == op_id)).first()
        return None if row is None else _operation(row)

    def list_operations(
        self, project: str, location: str, job_id: int | None, limit: int, after: Cursor | None
    ) -> list[Operation]:
        query = select(operations).where(operations.c.project == project, operations.c.location == location)
        if job_id is not None:
            query = query.where(operations.c.job_id == job_id)
        with self.engine.connect() as conn:
            return [_operation(r) for r in conn.execute(newest_first(query, operations, limit, after))]

    def delete_operation(self, op_id: int) -> bool:
        with write_transaction(self.engine) as conn:
            return bool(conn.execute(delete(operations).where(operations.c.id == op_id)).rowcount == 1)

    # helpers ----------------------------------------------------------------

    def _with_labels(self, conn: Any, rows: Sequence[Row[Any]]) -> list[Job]:
        labels = labels_by_id(conn, job_labels, rows)
        return [_job(r, labels[r.id]) for r in rows]

    # the console's scopes -----------------------------------------------------

    def job_scopes(self) -> list[JobScope]:
        latest = func.max(custom_jobs.c.create_us)
        query = (
            select(custom_jobs.c.project, custom_jobs.c.location, func.count(), latest)
            .where(custom_jobs.c.owner.is_(None))  # what customJobs list shows: no tuning trials
            .group_by(custom_jobs.c.project, custom_jobs.c.location)
            .order_by(latest.desc(), custom_jobs.c.project, custom_jobs.c.location)
        )
        with self.engine.connect() as conn:
            return [JobScope(p, loc, int(n), int(us)) for p, loc, n, us in conn.execute(query)]


def labels_by_id(conn: Any, labels_table: Table, rows: Sequence[Row[Any]]) -> dict[int, dict[str, str]]:
    """Every row's labels, from a labels table keyed by `job_id`, in one query."""
    labels: dict[int, dict[str, str]] = {r.id: {} for r in rows}
    if rows:
        query = select(labels_table).where(labels_table.c.job_id.in_(list(labels)))
        for label in conn.execute(query):
            labels[label.job_id][label.key] = label.value
    return labels


def _get_job_statement(dialect: str) -> Select[Any]:
    """A job with its labels as one JSON object, in one statement: a get is one round trip
    and one execute, the cost that dominates a point read."""
    pair = (job_labels.c.key, job_labels.c.value)
    as_object = func.json_group_object(*pair) if dialect == "sqlite" else func.json_object_agg(*pair)
    labels = select(cast(as_object, Text)).where(job_labels.c.job_id == custom_jobs.c.id).scalar_subquery()
    return select(custom_jobs, labels.label("labels_json")).where(custom_jobs.c.id == bindparam("job_id"))


_INSERT_EVENT = insert(job_events)
# Built once: a statement made per call costs more to build and key than to run.
_INSERT_JOB = insert(custom_jobs)
_INSERT_LABELS = insert(job_labels)
# Up to this many jobs, queue_positions counts ahead of each; beyond, it numbers the queue.
_COUNTED_POSITIONS = 8
# `state` in a write's conditions: any state but a terminal one.
_ACTIVE = object()


@dataclass(frozen=True)
class _FirstStart:
    """start_us = COALESCE(start_us, at): startTime is the FIRST entry into RUNNING."""

    at: int


def _compiled_change(change: StateChange) -> tuple[Update, dict[str, Any], dict[str, Any]]:
    """A state change as its compare-and-set UPDATE, its parameters, and its event row."""
    unknown = set(change.runtime) - _RUNTIME_FIELDS
    if unknown:
        raise ValueError(f"not runtime fields: {sorted(unknown)}")
    values: dict[str, Any] = {"state": change.target.value, "update_us": change.now_us}
    if change.reset_runtime:
        values.update(_runtime_columns({"handle": None, "outcome": None, "stop_requested_us": None}))
    values.update(_runtime_columns(dict(change.runtime)))
    if change.set_end:
        values["end_us"] = change.now_us
    if change.set_start:
        # startTime is the FIRST entry into RUNNING: a retry keeps the original.
        values["start_us"] = _FirstStart(change.now_us)
    if change.error_code is not None:
        values["error_code"] = change.error_code
        values["error_message"] = change.error_message
    where = {"id": change.job_id, "state": change.expected.value}
    if change.attempt is not None:
        where["attempt"] = change.attempt
    statement, params = _job_update(values, where)
    event = {
        "job_id": change.job_id,
        "state": change.target.value,
        "time_us": change.now_us,
        "message": change.message,
    }
    return statement, params, event


def _job_update(values: dict[str, Any], where: dict[str, Any]) -> tuple[Update, dict[str, Any]]:
    """A compare-and-set UPDATE of one job and its parameters. The statement is built once
    per shape (which columns it sets and tests) and reused: the hot writes of every job's
    life skip building and keying a statement each time."""
    params = {f"v_{k}": v.at if isinstance(v, _FirstStart) else v for k, v in values.items()}
    params.update({f"w_{k}": v for k, v in where.items() if v is not None and v is not _ACTIVE})
    shape = tuple((k, isinstance(v, _FirstStart)) for k, v in values.items())
    conditions = tuple(
        (k, "active" if v is _ACTIVE else "null" if v is None else "equal") for k, v in where.items()
    )
    return _update_statement(shape, conditions), params


@functools.cache
def _update_statement(shape: tuple[tuple[str, bool], ...], conditions: tuple[tuple[str, str], ...]) -> Update:
    c = custom_jobs.c
    tests: list[ColumnElement[bool]] = []
    for column, test in conditions:
        if test == "active":
            # Not `NOT IN`: its list is expanded at execution, which raw_writes.py does not do.
            tests.append(and_(*(c[column] != literal(s.value) for s in sorted(TERMINAL))))
        elif test == "null":
            tests.append(c[column].is_(None))
        else:
            tests.append(c[column] == bindparam(f"w_{column}"))
    sets = {
        column: func.coalesce(c[column], bindparam(f"v_{column}")) if first else bindparam(f"v_{column}")
        for column, first in shape
    }
    return update(custom_jobs).where(*tests).values(sets)


def placing_query() -> Select[Any]:
    """The admitted jobs still waiting for placement, oldest first: a range of the partial
    index ix_custom_jobs_placing, however long the plain queue is. Its WHERE is the index's
    own text, literal values and all: SQLite uses a partial index only where it can prove
    the query's terms imply the index's, which it cannot for a bound parameter (it would
    scan every QUEUED row instead, 15 ms a pass at 100,000 queued)."""
    c = custom_jobs.c
    return select(custom_jobs).where(PLACING_WHERE).order_by(c.create_us, c.id)


def list_query(
    project: str, location: str, where: Expr | None, limit: int, after: Cursor | None
) -> Select[Any]:
    """One page, newest first, by keyset: an index range scan however deep the page is."""
    query = select(custom_jobs).where(
        custom_jobs.c.project == project, custom_jobs.c.location == location, custom_jobs.c.owner.is_(None)
    )
    if where is not None:
        query = query.where(filter_clause(where))
    return newest_first(query, custom_jobs, limit, after)


def newest_first(query: Select[Any], table: Table, limit: int, after: Cursor | None) -> Select[Any]:
    """One page of `query` over `table`, newest first, by keyset on (create_us, id): an index
    range scan however deep the page is. Every listed resource pages this way."""
    if after is not None:
        query = query.where(tuple_(table.c.create_us, table.c.id) < tuple_(after.create_us, after.id))
    return query.order_by(table.c.create_us.desc(), table.c.id.desc()).limit(limit)


def _job(row: Any, labels: dict[str, str]) -> Job:
    outcome = None
    if row.outcome_state is not None:
        outcome = Outcome(JobState(row.outcome_state), row.outcome_code, row.outcome_message)
    return Job(
        id=row.id,
        project=row.project,
        location=row.location,
        display_name=row.display_name,
        state=JobState(row.state),
        spec_json=row.spec_json,
        create_us=row.create_us,
        update_us=row.update_us,
        labels=labels,
        start_us=row.start_us,
        end_us=row.end_us,
        error_code=row.error_code,
        error_message=row.error_message,
        attempt=row.attempt,
        handle=json.loads(row.handle_json) if row.handle_json else None,
        outcome=outcome,
        stop_requested_us=row.stop_requested_us,
        web_access_uris=json.loads(row.web_access_json) if row.web_access_json else {},
        allocation=JobAllocation.from_dict(json.loads(row.allocation_json)) if row.allocation_json else None,
        queue_reason=row.queue_reason,
        owner=row.owner,
    )


def operation_row(op: Operation) -> dict[str, Any]:
    return {
        "id": op.id,
        "project": op.project,
        "location": op.location,
        "kind": op.kind,
        "api_version": op.api_version,
        "job_id": op.job_id,
        "done": op.done,
        "error_code": op.error_code,
        "error_message": op.error_message,
        "create_us": op.create_us,
        "update_us": op.update_us,
        "result_json": op.result_json,
    }


def _operation(row: Row[Any]) -> Operation:
    return Operation(
        id=row.id,
        project=row.project,
        location=row.location,
        kind=row.kind,
        api_version=row.api_version,
        done=row.done,
        create_us=row.create_us,
        update_us=row.update_us,
        job_id=row.job_id,
        error_code=row.error_code,
        error_message=row.error_message,
        result_json=row.result_json,
    )


def _runtime_columns(fields: dict[str, Any]) -> dict[str, Any]:
    """Domain runtime fields as columns; a field given as None clears its column."""
    columns: dict[str, Any] = {}
    if "attempt" in fields:
        columns["attempt"] = fields["attempt"]
    if "stop_requested_us" in fields:
        columns["stop_requested_us"] = fields["stop_requested_us"]
    if "handle" in fields:
        columns["handle_json"] = None if fields["handle"] is None else json.dumps(fields["handle"])
    if "web_access_uris" in fields:
        uris = fields["web_access_uris"]
        columns["web_access_json"] = json.dumps(uris) if uris else None
    if "allocation" in fields:
        allocation: JobAllocation | None = fields["allocation"]
        columns["allocation_json"] = None if allocation is None else json.dumps(allocation.to_dict())
    if "queue_reason" in fields:
        columns["queue_reason"] = fields["queue_reason"]
    if "outcome" in fields:
        outcome: Outcome | None = fields["outcome"]
        columns["outcome_state"] = None if outcome is None else outcome.state.value
        columns["outcome_code"] = None if outcome is None else outcome.error_code
        columns["outcome_message"] = None if outcome is None else outcome.error_message
    return columns
