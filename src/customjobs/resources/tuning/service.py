"""HyperparameterTuningJob use cases (create, get, list, cancel, delete), free of any transport.

The controller (controller.py) runs what create stores; cancel only asks for the move to
CANCELLING, and the controller stops the trials and ends the job once they have stopped.
get, list, cancel and delete are every controlled resource's (resources/controlled.py).
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from customjobs import names
from customjobs.clock import now_us
from customjobs.domain.states import JobState
from customjobs.domain.tuning import NewTuningJob, TuningJob
from customjobs.resources.controlled import ControlledService
from customjobs.store.sql.tuning import SqlTuningStore

log = logging.getLogger(__name__)

COLLECTION = "hyperparameterTuningJobs"
DELETE_OPERATION = "delete_hyperparameter_tuning_job"


class TuningService(ControlledService[TuningJob]):
    kind = "HyperparameterTuningJob"
    collection = COLLECTION
    delete_operation = DELETE_OPERATION
    store: SqlTuningStore

    def create(self, new: NewTuningJob) -> TuningJob:
        self.refuse_when_draining()
        job = self.store.insert(names.new_id(), new, JobState.PENDING, now_us())
        log.info("tuning job %s: created %r in %s/%s", job.id, job.display_name, job.project, job.location)
        self.wake()
        return job

    def submit(self, job_id: int, new: NewTuningJob) -> None:
        """Create tuning job `job_id` unless it exists (a pipeline's backing job: idempotent)."""
        try:
            self.store.insert(job_id, new, JobState.PENDING, now_us())
        except IntegrityError:
            if self.store.get(job_id) is None:
                raise
            return
        log.info("tuning job %s: submitted for a training pipeline", job_id)
        self.wake()
