"""JobService's HyperparameterTuningJob methods at the level of protobuf messages."""

from __future__ import annotations

from typing import Any

from google.longrunning import operations_pb2
from google.protobuf import json_format
from google.protobuf.message import Message

from customjobs import names
from customjobs.domain.job import NewJob
from customjobs.resources.base import ResourceMethods
from customjobs.resources.tuning import codec, trials
from customjobs.resources.tuning.service import COLLECTION
from customjobs.security.principal import caller
from customjobs.wire import paging
from customjobs.wire.filters import parse_filter
from customjobs.wire.limits import check_list_request
from customjobs.wire.messages import types_for
from customjobs.wire.operations import operation_message

_WHAT = "hyperparameter tuning job"


def _parse_name(name: str) -> tuple[names.Parent, int]:
    return names.parse_resource_name(name, COLLECTION, _WHAT)


class TuningJobMethods(ResourceMethods):
    def create_hyperparameter_tuning_job(self, version: str, parent: str, job: Message) -> Message:
        where = names.parse_parent(parent)
        self._require("CreateHyperparameterTuningJob", where)
        new = codec.decode_new(job, where.project, where.location)
        # A trial is a CustomJob: the caller must be allowed what it uses (buckets, the KMS
        # key), and with strict capacity the machine must be able to run one.
        trial = sample_trial(codec.parsed(new.spec_json), where)
        self.inputs.check(trial, caller())
        self.rt.encryption.seal_new(trial)  # its key must be usable now, as a CustomJob's must
        self.rt.jobs.check(trial)
        created = self.rt.tuning.create(new)
        return codec.job_message(created, [], version)

    def get_hyperparameter_tuning_job(self, version: str, name: str) -> Message:
        parent, job_id = _parse_name(name)
        self._require("GetHyperparameterTuningJob", parent)
        job = self.rt.tuning.get(parent, job_id)
        return codec.job_message(job, trials.trials_of(job.trials_json), version)

    def list_hyperparameter_tuning_jobs(
        self, version: str, parent: str, filter_text: str, page_size: int, page_token: str
    ) -> Message:
        where = names.parse_parent(parent)
        self._require("ListHyperparameterTuningJobs", where)
        check_list_request(filter_text, page_token)
        expr = parse_filter(filter_text)
        bound_to = paging.binding(parent + "/" + COLLECTION, filter_text)
        after = paging.decode(page_token, bound_to) if page_token else None
        jobs, cursor = self.rt.tuning.list(where, expr, self._page_size(page_size), after)
        next_token = paging.encode(cursor, bound_to) if cursor else ""
        return codec.list_response([(j, trials.trials_of(j.trials_json)) for j in jobs], version, next_token)

    def cancel_hyperparameter_tuning_job(self, name: str) -> None:
        parent, job_id = _parse_name(name)
        self._require("CancelHyperparameterTuningJob", parent)
        self.rt.tuning.cancel(parent, job_id)

    def delete_hyperparameter_tuning_job(self, version: str, name: str) -> operations_pb2.Operation:
        parent, job_id = _parse_name(name)
        self._require("DeleteHyperparameterTuningJob", parent)
        return operation_message(self.rt.tuning.delete(parent, job_id, version))


def sample_trial(tuning_job: Message, where: names.Parent) -> NewJob:
    """What one trial asks of the machine, as a CustomJob would (for create's capacity check)."""
    study: Any = tuning_job
    custom = types_for("v1").custom_job()
    custom.job_spec.CopyFrom(study.trial_job_spec)
    if study.HasField("encryption_spec"):
        custom.encryption_spec.CopyFrom(study.encryption_spec)
    spec = json_format.MessageToJson(custom, indent=None)
    return NewJob(where.project, where.location, study.display_name, dict(study.labels), spec)
