"""A stored HyperparameterTuningJob as its service and controller see it.

`spec_json` is the job's input fields and `trials_json` its trials, both proto JSON of the
official messages: only resources/tuning reads or writes those texts. `revision` grows by
one with every write, so two writers racing on a job can never both win.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from customjobs.domain.states import JobState


@dataclass(frozen=True)
class NewTuningJob:
    project: str
    location: str
    display_name: str
    labels: dict[str, str]
    spec_json: str


@dataclass
class TuningJob:
    id: int
    project: str
    location: str
    display_name: str
    state: JobState
    spec_json: str
    trials_json: str
    revision: int
    create_us: int
    update_us: int
    labels: dict[str, str] = field(default_factory=dict)
    start_us: int | None = None
    end_us: int | None = None
    error_code: int | None = None
    error_message: str | None = None
