"""TrainingPipeline use cases (create, get, list, cancel, delete), free of any transport.

Create only records the pipeline (QUEUED) with its backing job's id chosen; the controller
(controller.py) submits that job, follows it, and uploads the Model. Cancel asks for
CANCELLING; the controller cancels the job and ends the pipeline. get, list, cancel and
delete are every controlled resource's (resources/controlled.py).
"""

from __future__ import annotations

import logging

from customjobs import names
from customjobs.clock import now_us
from customjobs.domain.pipeline import NewPipeline, Pipeline
from customjobs.domain.states import JobState, pipeline_state_name
from customjobs.resources.controlled import ControlledService
from customjobs.resources.pipelines.codec import COLLECTION
from customjobs.store.sql.pipelines import SqlPipelineStore

log = logging.getLogger(__name__)

DELETE_OPERATION = "delete_training_pipeline"


class PipelineService(ControlledService[Pipeline]):
    kind = "TrainingPipeline"
    collection = COLLECTION
    delete_operation = DELETE_OPERATION
    store: SqlPipelineStore

    def state_name(self, state: JobState) -> str:
        return pipeline_state_name(state)

    def create(self, new: NewPipeline) -> Pipeline:
        self.refuse_when_draining()
        pipeline = self.store.insert(names.new_id(), names.new_id(), new, JobState.QUEUED, now_us())
        log.info(
            "training pipeline %s: created %r in %s/%s (backing job %s)",
            pipeline.id,
            pipeline.display_name,
            pipeline.project,
            pipeline.location,
            pipeline.backing_job_id,
        )
        self.wake()
        return pipeline
