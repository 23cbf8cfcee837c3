"""HyperparameterTuningJobs on SQLAlchemy Core: one row per job, its trials in the row.

Every write is a compare-and-set on `revision`: the controller's pass and a user's cancel
may race, and the loser rereads and decides again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, Row, delete, insert, select, update

from customjobs.domain.job import Operation
from customjobs.domain.query import Expr
from customjobs.domain.states import TERMINAL, JobState
from customjobs.domain.tuning import NewTuningJob, TuningJob
from customjobs.store.base import Cursor
from customjobs.store.sql.filter_sql import TUNING_JOBS, filter_clause
from customjobs.store.sql.store import labels_by_id, newest_first, operation_row
from customjobs.store.sql.tables import operations, tuning_job_labels, tuning_jobs

_WRITABLE = {"state", "trials_json", "start_us", "end_us", "error_code", "error_message"}


class SqlTuningStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def insert(self, job_id: int, new: NewTuningJob, state: JobState, now_us: int) -> TuningJob:
        with self.engine.begin() as conn:
            conn.execute(
                insert(tuning_jobs).values(
                    id=job_id,
                    project=new.project,
                    location=new.location,
                    display_name=new.display_name,
                    state=state.value,
                    spec_json=new.spec_json,
                    trials_json="[]",
                    revision=0,
                    create_us=now_us,
                    update_us=now_us,
                )
            )
            if new.labels:
                rows = [{"job_id": job_id, "key": k, "value": v} for k, v in new.labels.items()]
                conn.execute(insert(tuning_job_labels), rows)
        return TuningJob(
            id=job_id,
            project=new.project,
            location=new.location,
            display_name=new.display_name,
            state=state,
            spec_json=new.spec_json,
            trials_json="[]",
            revision=0,
            create_us=now_us,
            update_us=now_us,
            labels=dict(new.labels),
        )

    def get(self, job_id: int) -> TuningJob | None:
        with self.engine.connect() as conn:
            rows = conn.execute(select(tuning_jobs).where(tuning_jobs.c.id == job_id)).all()
            found = self._with_labels(conn, rows)
        return found[0] if found else None

    def page(
        self, project: str, location: str, where: Expr | None, limit: int, after: Cursor | None
    ) -> list[TuningJob]:
        table = tuning_jobs
        query = select(table).where(table.c.project == project, table.c.location == location)
        if where is not None:
            query = query.where(filter_clause(where, TUNING_JOBS))
        with self.engine.connect() as conn:
            return self._with_labels(conn, conn.execute(newest_first(query, table, limit, after)).all())

    def active(self) -> list[TuningJob]:
        query = select(tuning_jobs).where(tuning_jobs.c.state.not_in([s.value for s in TERMINAL]))
        with self.engine.connect() as conn:
            return self._with_labels(conn, conn.execute(query.order_by(tuning_jobs.c.create_us)).all())

    def update(self, job_id: int, revision: int, now_us: int, **fields: Any) -> bool:
        """Write `fields` only if the job is still at `revision`; False when the race was lost."""
        unknown = set(fields) - _WRITABLE
        if unknown:
            raise ValueError(f"not writable fields: {sorted(unknown)}")
        values = {**fields, "revision": revision + 1, "update_us": now_us}
        if isinstance(values.get("state"), JobState):
            values["state"] = values["state"].value
        with self.engine.begin() as conn:
            result = conn.execute(
                update(tuning_jobs)
                .where(tuning_jobs.c.id == job_id, tuning_jobs.c.revision == revision)
                .values(**values)
            )
            return bool(result.rowcount == 1)

    def delete(self, job_id: int, operation: Operation) -> bool:
        """Delete a job that has ended and record its operation, in one transaction."""
        with self.engine.begin() as conn:
            conn.execute(delete(tuning_job_labels).where(tuning_job_labels.c.job_id == job_id))
            result = conn.execute(
                delete(tuning_jobs).where(
                    tuning_jobs.c.id == job_id, tuning_jobs.c.state.in_([s.value for s in TERMINAL])
                )
            )
            if result.rowcount != 1:
                conn.rollback()
                return False
            conn.execute(insert(operations).values(**operation_row(operation)))
        return True

    def _with_labels(self, conn: Any, rows: Sequence[Row[Any]]) -> list[TuningJob]:
        labels = labels_by_id(conn, tuning_job_labels, rows)
        return [_tuning_job(r, labels[r.id]) for r in rows]


def _tuning_job(row: Row[Any], labels: dict[str, str]) -> TuningJob:
    return TuningJob(
        id=row.id,
        project=row.project,
        location=row.location,
        display_name=row.display_name,
        state=JobState(row.state),
        spec_json=row.spec_json,
        trials_json=row.trials_json,
        revision=row.revision,
        create_us=row.create_us,
        update_us=row.update_us,
        labels=labels,
        start_us=row.start_us,
        end_us=row.end_us,
        error_code=row.error_code,
        error_message=row.error_message,
    )
