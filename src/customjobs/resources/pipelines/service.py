"""TrainingPipeline use cases (create, get, list, cancel, delete), free of any transport.

Create only records the pipeline (QUEUED) with its backing CustomJob's id chosen; the
controller (controller.py) submits that job, follows it, and uploads the Model. Cancel
asks for CANCELLING; the controller cancels the job and ends the pipeline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from customjobs import names
from customjobs.clock import now_us
from customjobs.domain.job import Operation
from customjobs.domain.pipeline import NewPipeline, Pipeline
from customjobs.domain.query import Expr
from customjobs.domain.states import CANCELLABLE, TERMINAL, JobState
from customjobs.errors import FailedPrecondition, NotFound, Unavailable
from customjobs.resources.pipelines.codec import COLLECTION
from customjobs.store.base import Cursor, page_of
from customjobs.store.sql.pipelines import SqlPipelineStore

log = logging.getLogger(__name__)

DELETE_OPERATION = "delete_training_pipeline"
_CANCEL_RETRIES = 5


def pipeline_name(project: str, location: str, pipeline_id: int) -> str:
    return names.resource_name(project, location, COLLECTION, pipeline_id)


def _state_name(state: JobState) -> str:
    return "PIPELINE_STATE_" + state.value.removeprefix("JOB_STATE_")


class PipelineService:
    def __init__(
        self, store: SqlPipelineStore, wake: Callable[[], None], draining: Callable[[], bool]
    ) -> None:
        self.store = store
        self.wake = wake
        self.draining = draining

    def create(self, new: NewPipeline) -> Pipeline:
        if self.draining():
            raise Unavailable("This server is shutting down and accepts no new jobs; retry on another.")
        pipeline = self.store.insert(names.new_id(), names.new_id(), new, JobState.QUEUED, now_us())
        log.info(
            "training pipeline %s: created %r in %s/%s (backing CustomJob %s)",
            pipeline.id,
            pipeline.display_name,
            pipeline.project,
            pipeline.location,
            pipeline.backing_job_id,
        )
        self.wake()
        return pipeline

    def get(self, parent: names.Parent, pipeline_id: int) -> Pipeline:
        pipeline = self.store.get(pipeline_id)
        if pipeline is None or (pipeline.project, pipeline.location) != (parent.project, parent.location):
            name = pipeline_name(parent.project, parent.location, pipeline_id)
            raise NotFound(f'The TrainingPipeline "{name}" does not exist.')
        return pipeline

    def list(
        self, parent: names.Parent, where: Expr | None, page_size: int, after: Cursor | None
    ) -> tuple[list[Pipeline], Cursor | None]:
        rows = self.store.page(parent.project, parent.location, where, page_size + 1, after)
        return page_of(rows, page_size)

    def cancel(self, parent: names.Parent, pipeline_id: int) -> None:
        for _ in range(_CANCEL_RETRIES):
            p = self.get(parent, pipeline_id)
            if p.state is JobState.CANCELLING:
                return
            if p.state not in CANCELLABLE:
                name = pipeline_name(p.project, p.location, p.id)
                raise FailedPrecondition(
                    f'Cannot cancel TrainingPipeline "{name}": it is in state {_state_name(p.state)}.'
                )
            if self.store.update(p.id, p.revision, now_us(), state=JobState.CANCELLING):
                log.info("training pipeline %s: %s -> CANCELLING (cancel requested)", p.id, p.state.value)
                self.wake()
                return
        raise FailedPrecondition(f"Cannot cancel TrainingPipeline {pipeline_id}: its state keeps changing.")

    def delete(self, parent: names.Parent, pipeline_id: int, api_version: str) -> Operation:
        p = self.get(parent, pipeline_id)
        name = pipeline_name(p.project, p.location, p.id)
        if p.state not in TERMINAL:
            raise FailedPrecondition(
                f'TrainingPipeline "{name}" is in state {_state_name(p.state)} and cannot be deleted: '
                "cancel it first and wait for it to end."
            )
        operation = Operation.done_now(
            names.new_id(), DELETE_OPERATION, p.project, p.location, api_version, p.id, now_us()
        )
        if not self.store.delete(p.id, operation):
            raise NotFound(f'The TrainingPipeline "{name}" does not exist.')
        log.info("training pipeline %s: deleted (operation %s)", p.id, operation.id)
        return operation
