"""A stored TrainingPipeline as its service and controller see it.

`spec_json` is the pipeline's input fields (proto JSON of the official message): only
resources/pipelines reads it. The backing CustomJob's id is chosen at create, so the
controller submits it once however often it restarts. The state is the JobState of the
same name: the wire turns JOB_STATE_X into PIPELINE_STATE_X.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from customjobs.domain.states import JobState


@dataclass(frozen=True)
class NewPipeline:
    project: str
    location: str
    display_name: str
    labels: dict[str, str]
    spec_json: str


@dataclass
class Pipeline:
    id: int
    project: str
    location: str
    display_name: str
    state: JobState
    spec_json: str
    backing_job_id: int
    revision: int
    create_us: int
    update_us: int
    labels: dict[str, str] = field(default_factory=dict)
    submitted_us: int | None = None
    model_name: str | None = None
    model_version: str | None = None
    start_us: int | None = None
    end_us: int | None = None
    error_code: int | None = None
    error_message: str | None = None
