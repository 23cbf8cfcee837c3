"""PipelineService's TrainingPipeline methods at the level of protobuf messages."""

from __future__ import annotations

from google.longrunning import operations_pb2
from google.protobuf.message import Message

from customjobs import names
from customjobs.resources.base import ResourceMethods
from customjobs.resources.pipelines import codec
from customjobs.resources.pipelines.tasks import backing_job
from customjobs.resources.tuning.methods import sample_trial
from customjobs.security.principal import caller
from customjobs.wire import paging
from customjobs.wire.filters import PIPELINE_STATES, parse_filter
from customjobs.wire.limits import check_list_request
from customjobs.wire.operations import operation_message

_WHAT = "training pipeline"


def _parse_name(name: str) -> tuple[names.Parent, int]:
    return names.parse_resource_name(name, codec.COLLECTION, _WHAT)


class PipelineMethods(ResourceMethods):
    def create_training_pipeline(self, version: str, parent: str, pipeline: Message) -> Message:
        where = names.parse_parent(parent)
        self._require("CreateTrainingPipeline", where)
        new = codec.decode_new(pipeline, where)
        # The backing CustomJob must be one the caller could create: its buckets, service
        # account and key allowed, its key usable now, the machine able to run it.
        job = (
            sample_trial(codec.tuning_job_of(new.spec_json), where)
            if codec.is_tuning(new.spec_json)
            else backing_job(new)
        )
        self.inputs.check(job, caller())
        self.rt.encryption.seal_new(job)
        self.rt.jobs.check(job)
        return codec.pipeline_message(self.rt.pipelines.create(new), version)

    def get_training_pipeline(self, version: str, name: str) -> Message:
        parent, pipeline_id = _parse_name(name)
        self._require("GetTrainingPipeline", parent)
        return codec.pipeline_message(self.rt.pipelines.get(parent, pipeline_id), version)

    def list_training_pipelines(
        self, version: str, parent: str, filter_text: str, page_size: int, page_token: str
    ) -> Message:
        where = names.parse_parent(parent)
        self._require("ListTrainingPipelines", where)
        check_list_request(filter_text, page_token)
        expr = parse_filter(filter_text, PIPELINE_STATES)
        bound_to = paging.binding(parent + "/" + codec.COLLECTION, filter_text)
        after = paging.decode(page_token, bound_to) if page_token else None
        pipelines, cursor = self.rt.pipelines.list(where, expr, self._page_size(page_size), after)
        next_token = paging.encode(cursor, bound_to) if cursor else ""
        return codec.list_response(pipelines, version, next_token)

    def cancel_training_pipeline(self, name: str) -> None:
        parent, pipeline_id = _parse_name(name)
        self._require("CancelTrainingPipeline", parent)
        self.rt.pipelines.cancel(parent, pipeline_id)

    def delete_training_pipeline(self, version: str, name: str) -> operations_pb2.Operation:
        parent, pipeline_id = _parse_name(name)
        self._require("DeleteTrainingPipeline", parent)
        return operation_message(self.rt.pipelines.delete(parent, pipeline_id, version))
