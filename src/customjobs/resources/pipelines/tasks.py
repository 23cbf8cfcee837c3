"""What a pipeline runs for its training task: a backing CustomJob, or a backing
HyperparameterTuningJob. Both sit behind one small interface, so the controller's pass is
the same for either: submit it (idempotent: its id was chosen at create), read where it
stands, cancel it, and say where the Model's artifacts are once it succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from customjobs import names
from customjobs.domain.job import NewJob
from customjobs.domain.pipeline import NewPipeline, Pipeline
from customjobs.domain.states import JobState
from customjobs.domain.tuning import NewTuningJob
from customjobs.errors import RpcCode
from customjobs.execution.children import ChildExecutions
from customjobs.execution.environment import output_env
from customjobs.resources.custom_jobs.codec import decode_new_job
from customjobs.resources.pipelines import codec
from customjobs.resources.tuning import codec as tuning_codec
from customjobs.resources.tuning import trials
from customjobs.resources.tuning.service import TuningService
from customjobs.wire.messages import types_for


@dataclass(frozen=True)
class TaskStatus:
    state: JobState
    start_us: int | None
    error: tuple[int, str] | None


class BackingTask(Protocol):
    def submit(self, p: Pipeline) -> None: ...

    def status(self, p: Pipeline) -> TaskStatus | None:
        """None: it is gone (deleted by its user)."""

    def cancel(self, p: Pipeline) -> None: ...

    def model_dir(self, p: Pipeline) -> str:
        """Where the succeeded task left the Model's files."""


def _error(code: int | None, message: str | None) -> tuple[int, str] | None:
    return None if code is None else (code, message or "")


class CustomTask:
    def __init__(self, executions: ChildExecutions) -> None:
        self.executions = executions

    def submit(self, p: Pipeline) -> None:
        self.executions.submit(p.backing_job_id, backing_job(p))

    def status(self, p: Pipeline) -> TaskStatus | None:
        job = self.executions.get(p.backing_job_id)
        if job is None:
            return None
        error = _error(job.error_code, job.error_message)
        if job.state is JobState.FAILED and error is None:
            error = (int(RpcCode.UNKNOWN), "The backing CustomJob failed.")
        return TaskStatus(job.state, job.start_us, error)

    def cancel(self, p: Pipeline) -> None:
        job = self.executions.get(p.backing_job_id)
        if job is not None:
            self.executions.cancel(job, "its training pipeline was cancelled")

    def model_dir(self, p: Pipeline) -> str:
        base = codec.job_spec_of(p.spec_json).base_output_directory.output_uri_prefix
        return output_env(base)["AIP_MODEL_DIR"]


class TuningTask:
    def __init__(self, tuning: TuningService) -> None:
        self.tuning = tuning

    def submit(self, p: Pipeline) -> None:
        self.tuning.submit(p.backing_job_id, backing_tuning_job(p))

    def status(self, p: Pipeline) -> TaskStatus | None:
        job = self.tuning.store.get(p.backing_job_id)
        if job is None:
            return None
        return TaskStatus(job.state, job.start_us, _error(job.error_code, job.error_message))

    def cancel(self, p: Pipeline) -> None:
        if self.tuning.store.get(p.backing_job_id) is not None:
            self.tuning.cancel(names.Parent(p.project, p.location), p.backing_job_id)

    def model_dir(self, p: Pipeline) -> str:
        """The best trial's model directory: <baseOutputDirectory>/<trialId>/model/ (Vertex's)."""
        job = self.tuning.store.get(p.backing_job_id)
        best = trials.best_trial_id(job) if job is not None else None
        assert job is not None and best is not None, "a succeeded study has a succeeded trial"
        return output_env(trials.trial_output_base(job, best))["AIP_MODEL_DIR"]


def backing_job(p: Pipeline | NewPipeline) -> NewJob:
    """The backing CustomJob: the pipeline's display name, labels and key, the task's spec."""
    spec: Any = codec.parsed(p.spec_json)
    custom: Any = types_for("v1").custom_job()
    custom.display_name = p.display_name
    custom.job_spec.CopyFrom(codec.job_spec_of(p.spec_json))
    custom.labels.update(p.labels)
    if spec.HasField("encryption_spec"):
        custom.encryption_spec.CopyFrom(spec.encryption_spec)
    # As a CustomJob created with this spec is: checked again, and its defaults filled in.
    return decode_new_job(custom, p.project, p.location)


def backing_tuning_job(p: Pipeline | NewPipeline) -> NewTuningJob:
    """The backing HyperparameterTuningJob: the pipeline's name, labels and key, the task's study."""
    return tuning_codec.decode_new(codec.tuning_job_of(p.spec_json), p.project, p.location)
