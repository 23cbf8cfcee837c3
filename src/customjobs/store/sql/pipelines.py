"""TrainingPipelines on SQLAlchemy Core: one row per pipeline (resource_rows.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Row

from customjobs.domain.pipeline import NewPipeline, Pipeline
from customjobs.domain.states import JobState
from customjobs.store.sql.filter_sql import PIPELINES
from customjobs.store.sql.resource_rows import ResourceRows

_WRITABLE = frozenset(
    {"state", "submitted_us", "start_us", "end_us", "error_code", "error_message"}
    | {"model_name", "model_version"}
)


class SqlPipelineStore(ResourceRows[Pipeline]):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, PIPELINES, _WRITABLE, _pipeline)

    def insert(
        self, pipeline_id: int, backing_job_id: int, new: NewPipeline, state: JobState, now_us: int
    ) -> Pipeline:
        values = {
            "id": pipeline_id,
            "project": new.project,
            "location": new.location,
            "display_name": new.display_name,
            "state": state.value,
            "spec_json": new.spec_json,
            "backing_job_id": backing_job_id,
            "revision": 0,
            "create_us": now_us,
            "update_us": now_us,
        }
        self.insert_row(values, new.labels)
        return Pipeline(
            id=pipeline_id,
            project=new.project,
            location=new.location,
            display_name=new.display_name,
            state=state,
            spec_json=new.spec_json,
            backing_job_id=backing_job_id,
            revision=0,
            create_us=now_us,
            update_us=now_us,
            labels=dict(new.labels),
        )


def _pipeline(row: Row[Any], labels: dict[str, str]) -> Pipeline:
    return Pipeline(
        id=row.id,
        project=row.project,
        location=row.location,
        display_name=row.display_name,
        state=JobState(row.state),
        spec_json=row.spec_json,
        backing_job_id=row.backing_job_id,
        submitted_us=row.submitted_us,
        revision=row.revision,
        create_us=row.create_us,
        update_us=row.update_us,
        labels=labels,
        model_name=row.model_name,
        model_version=row.model_version,
        start_us=row.start_us,
        end_us=row.end_us,
        error_code=row.error_code,
        error_message=row.error_message,
    )
