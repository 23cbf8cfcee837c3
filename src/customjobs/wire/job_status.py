"""The output-only fields every job resource shares (state, times, error), set on its message.

A CustomJob, a HyperparameterTuningJob and a TrainingPipeline carry them under the same
names, so one function fills them all from the stored record. A pipeline's state enum is
PipelineState, whose names are JobState's with PIPELINE_STATE_ for JOB_STATE_.
"""

from __future__ import annotations

from typing import Any, Protocol

from customjobs.domain.states import JobState, pipeline_state_name


class JobStatus(Protocol):
    @property
    def state(self) -> JobState: ...

    @property
    def create_us(self) -> int: ...

    @property
    def update_us(self) -> int: ...

    @property
    def start_us(self) -> int | None: ...

    @property
    def end_us(self) -> int | None: ...

    @property
    def error_code(self) -> int | None: ...

    @property
    def error_message(self) -> str | None: ...


def set_job_status(message: Any, job: JobStatus) -> None:
    states = message.DESCRIPTOR.fields_by_name["state"].enum_type
    name = job.state.value
    if states.name == "PipelineState":
        name = pipeline_state_name(job.state)
    message.state = states.values_by_name[name].number
    message.create_time.FromMicroseconds(job.create_us)
    message.update_time.FromMicroseconds(job.update_us)
    if job.start_us is not None:
        message.start_time.FromMicroseconds(job.start_us)
    if job.end_us is not None:
        message.end_time.FromMicroseconds(job.end_us)
    if job.error_code is not None:
        message.error.code = job.error_code
        message.error.message = job.error_message or ""
