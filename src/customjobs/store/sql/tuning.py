"""HyperparameterTuningJobs on SQLAlchemy Core: one row per job, its trials in the row.

The rows are a controller's resource rows (resource_rows.py): every write a compare-and-set
on `revision`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Row

from customjobs.domain.states import JobState
from customjobs.domain.tuning import NewTuningJob, TuningJob
from customjobs.store.sql.filter_sql import TUNING_JOBS
from customjobs.store.sql.resource_rows import ResourceRows

_WRITABLE = frozenset({"state", "trials_json", "start_us", "end_us", "error_code", "error_message"})


class SqlTuningStore(ResourceRows[TuningJob]):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, TUNING_JOBS, _WRITABLE, _tuning_job)

    def insert(self, job_id: int, new: NewTuningJob, state: JobState, now_us: int) -> TuningJob:
        values = {
            "id": job_id,
            "project": new.project,
            "location": new.location,
            "display_name": new.display_name,
            "state": state.value,
            "spec_json": new.spec_json,
            "trials_json": "[]",
            "revision": 0,
            "create_us": now_us,
            "update_us": now_us,
        }
        self.insert_row(values, new.labels)
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
