"""The pipeline controller: one pass reconciles every TrainingPipeline that has not ended.

A pipeline runs one backing task (tasks.py): a real CustomJob (customJobs get and list show
it) or a real HyperparameterTuningJob, whose id was chosen at create. The controller submits
it, moves the pipeline QUEUED -> PENDING -> RUNNING as it goes, and when it succeeds uploads
`modelToUpload` (from the job's model directory, or the best trial's) before the pipeline
says SUCCEEDED. Every write is a compare-and-set on the pipeline's
revision, and the upload is idempotent per pipeline, so a server killed at any point and
started again submits the job once and uploads the Model once.
"""

from __future__ import annotations

import logging
from typing import Any

from customjobs import names
from customjobs.clock import now_us
from customjobs.domain.pipeline import Pipeline
from customjobs.domain.states import JobState, can_move
from customjobs.errors import ApiError, RpcCode
from customjobs.execution.children import ChildExecutions
from customjobs.resources.models import codec as models_codec
from customjobs.resources.models.names import model_name
from customjobs.resources.models.service import ModelService
from customjobs.resources.pipelines import codec
from customjobs.resources.pipelines.tasks import BackingTask, CustomTask, TuningTask
from customjobs.resources.tuning.service import TuningService
from customjobs.store.outage import StoreUnavailable
from customjobs.store.sql.pipelines import SqlPipelineStore

log = logging.getLogger(__name__)

_CANCELLED = (int(RpcCode.CANCELLED), "CANCELED")


class PipelineController:
    def __init__(
        self,
        store: SqlPipelineStore,
        executions: ChildExecutions,
        tuning: TuningService,
        models: ModelService,
    ) -> None:
        self.store = store
        self.custom_task = CustomTask(executions)
        self.tuning_task = TuningTask(tuning)
        self.models = models

    def run_once(self) -> int:
        """One pass over every active pipeline; returns how many there are."""
        pipelines = self.store.active()
        for pipeline in pipelines:
            try:
                self._reconcile(pipeline)
            except StoreUnavailable:
                raise  # logged once per outage by the store; the scheduler's pass ends
            except Exception:
                log.exception("training pipeline %s: reconcile failed", pipeline.id)
        return len(pipelines)

    def _task(self, p: Pipeline) -> BackingTask:
        return self.tuning_task if codec.is_tuning(p.spec_json) else self.custom_task

    def _reconcile(self, p: Pipeline) -> None:
        task = self._task(p)
        if p.submitted_us is None:
            self._submit(p, task)
            return
        status = task.status(p)
        if status is None:
            self._end(p, JobState.FAILED, (int(RpcCode.NOT_FOUND), "The pipeline's backing job was deleted."))
        elif status.state is JobState.SUCCEEDED:
            self._succeed(p, task)
        elif status.state is JobState.FAILED:
            self._end(p, JobState.FAILED, status.error)
        elif status.state is JobState.CANCELLED:
            self._end(p, JobState.CANCELLED, _CANCELLED)
        elif p.state is JobState.CANCELLING:
            task.cancel(p)
        elif status.state is JobState.RUNNING and p.state is not JobState.RUNNING:
            self._move(p, JobState.RUNNING, start_us=status.start_us or now_us())

    def _submit(self, p: Pipeline, task: BackingTask) -> None:
        if p.state is JobState.CANCELLING:
            self._end(p, JobState.CANCELLED, _CANCELLED)
            return
        try:
            task.submit(p)
        except StoreUnavailable:
            raise
        except ApiError as exc:  # its key refused, say: the pipeline fails as a create would
            self._end(p, JobState.FAILED, (int(exc.code), exc.message))
            return
        self._move(p, JobState.PENDING, submitted_us=now_us())

    def _succeed(self, p: Pipeline, task: BackingTask) -> None:
        spec: Any = codec.parsed(p.spec_json)
        fields: dict[str, Any] = {}
        if spec.HasField("model_to_upload"):
            try:
                version = self.models.upload_for_pipeline(model_upload(p, task.model_dir(p)))
            except StoreUnavailable:
                raise
            except ApiError as exc:  # the parent model was deleted meanwhile, say
                self._end(
                    p, JobState.FAILED, (int(exc.code), f"The Model could not be uploaded: {exc.message}")
                )
                return
            fields = {"model_name": model_name(p.project, p.location, version.model_id)}
            fields["model_version"] = str(version.version_id)
        self._end(p, JobState.SUCCEEDED, None, **fields)

    def _end(self, p: Pipeline, state: JobState, error: tuple[int, str] | None, **fields: Any) -> None:
        now = now_us()
        if error is not None:
            fields["error_code"], fields["error_message"] = error
        if p.start_us is None and state is JobState.SUCCEEDED:
            fields["start_us"] = now
        self._move(p, state, end_us=now, **fields)

    def _move(self, p: Pipeline, state: JobState, **fields: Any) -> None:
        if not _reachable(p.state, state):
            log.warning("training pipeline %s: no move %s -> %s", p.id, p.state.value, state.value)
            return
        if self.store.update(p.id, p.revision, now_us(), state=state, **fields):
            log.info("training pipeline %s: %s -> %s", p.id, p.state.value, state.value)


def model_upload(p: Pipeline, model_dir: str) -> Any:
    """`modelToUpload` as the registry's new version, its artifacts where the task wrote them."""
    spec: Any = codec.parsed(p.spec_json)
    model = type(spec.model_to_upload)()
    model.CopyFrom(spec.model_to_upload)
    if not model.artifact_uri:
        model.artifact_uri = model_dir.rstrip("/")
    where = names.Parent(p.project, p.location)
    return models_codec.new_version(model, where, spec.model_id, spec.parent_model, source_pipeline_id=p.id)


def _reachable(current: JobState, target: JobState) -> bool:
    """A move the state machine allows, directly or through one state the pass did not see
    (a short job may run and succeed between two passes: PENDING -> RUNNING -> SUCCEEDED)."""
    if target is current or can_move(current, target):
        return True
    return any(can_move(current, step) and can_move(step, target) for step in JobState)
