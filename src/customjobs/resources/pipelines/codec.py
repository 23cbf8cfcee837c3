"""Vertex JSON in and out for TrainingPipelines, through the official messages.

This server runs the custom training task: `trainingTaskInputs` is a CustomJobSpec held in
a google.protobuf.Value, parsed with the same strict parser and checked by the same rules
as a CustomJob's jobSpec, paths under `training_task_inputs`. Its snake_case or camelCase
keys both parse (the SDK sends snake_case). Other task definitions (AutoML) are refused.
"""

from __future__ import annotations

import functools
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from customjobs import names
from customjobs.domain.pipeline import NewPipeline, Pipeline
from customjobs.errors import FieldViolation, InvalidArgument
from customjobs.resources.custom_jobs.codec import parse_json_object, parse_message
from customjobs.resources.custom_jobs.validation import REQUIRED, common_violations, job_spec_violations
from customjobs.resources.models import codec as models_codec
from customjobs.wire.job_status import set_job_status
from customjobs.wire.messages import types_module

COLLECTION = "trainingPipelines"
SCHEMA_ROOT = "gs://google-cloud-aiplatform/schema/trainingjob/definition/"
CUSTOM_TASK = SCHEMA_ROOT + "custom_task_1.0.0.yaml"
_OUTPUT_ONLY = (
    "name",
    "state",
    "error",
    "create_time",
    "start_time",
    "end_time",
    "update_time",
    "training_task_metadata",
)


def pipeline_class(version: str) -> Any:
    return types_module(version).TrainingPipeline.pb()


def parse_pipeline(body: bytes, version: str) -> Message:
    message = pipeline_class(version)()
    parse_message(parse_json_object(body), message, "training_pipeline")
    return message


def decode_new(message: Message, where: names.Parent) -> NewPipeline:
    """A create request's pipeline as a NewPipeline, or every problem in one 400."""
    pipeline: Any = type(message).FromString(message.SerializeToString())
    for field in _OUTPUT_ONLY:
        pipeline.ClearField(field)
    violations = common_violations(pipeline)
    definition = pipeline.training_task_definition
    if not definition:
        violations.append(FieldViolation("training_task_definition", REQUIRED))
    elif definition != CUSTOM_TASK:
        violations.append(
            FieldViolation(
                "training_task_definition",
                f'"{definition}" is not a training task this server runs: it runs custom training '
                f'("{CUSTOM_TASK}"), not AutoML.',
            )
        )
    else:
        spec = _task_inputs(pipeline, violations)
        if spec is not None:
            violations += job_spec_violations(spec, "training_task_inputs")
            # Kept as Vertex answers it: the spec's proto3 JSON (camelCase, int64 as strings).
            json_format.ParseDict(json_format.MessageToDict(spec), pipeline.training_task_inputs)
            if pipeline.HasField("model_to_upload"):
                violations += _model_violations(pipeline, spec, where)
    if pipeline.input_data_config.dataset_id:
        violations.append(
            FieldViolation(
                "input_data_config.dataset_id",
                "This server has no managed datasets: read your data from a bucket or a local path "
                "in the training code instead (AIP_TRAINING_DATA_URI is not set).",
            )
        )
    if violations:
        raise InvalidArgument.from_violations(violations)
    if pipeline.HasField("model_to_upload"):
        pipeline.model_to_upload.CopyFrom(models_codec.cleaned(pipeline.model_to_upload))
    return NewPipeline(
        project=where.project,
        location=where.location,
        display_name=pipeline.display_name,
        labels=dict(pipeline.labels),
        spec_json=json_format.MessageToJson(pipeline, indent=None),
    )


def _task_inputs(pipeline: Any, out: list[FieldViolation]) -> Any:
    """The training task inputs as a CustomJobSpec; None (with the violation) when they aren't one."""
    if not pipeline.HasField("training_task_inputs"):
        out.append(FieldViolation("training_task_inputs", REQUIRED))
        return None
    value = json_format.MessageToDict(pipeline.training_task_inputs)
    if not isinstance(value, dict):
        problem = "Must be an object: the custom task's CustomJobSpec."
        out.append(FieldViolation("training_task_inputs", problem))
        return None
    version = pipeline.DESCRIPTOR.full_name.split(".")[-2]  # google.cloud.aiplatform.<version>
    spec = types_module(version).CustomJobSpec.pb()()
    parse_message(value, spec, "training_pipeline.training_task_inputs")
    return spec


def _model_violations(pipeline: Any, spec: Any, where: names.Parent) -> list[FieldViolation]:
    out = models_codec.model_violations(pipeline.model_to_upload, "model_to_upload")
    out += models_codec.target_violations(pipeline.model_id, pipeline.parent_model, where)
    if not pipeline.model_to_upload.artifact_uri and not spec.HasField("base_output_directory"):
        out.append(
            FieldViolation(
                "training_task_inputs.base_output_directory",
                "Required to upload a model: its artifacts are what the job writes to "
                "<base_output_directory>/model/ (AIP_MODEL_DIR).",
            )
        )
    return out


@functools.lru_cache(maxsize=1024)
def parsed(spec_json: str) -> Message:
    """A stored pipeline's input fields as a v1 message."""
    message = pipeline_class("v1")()
    json_format.Parse(spec_json, message, ignore_unknown_fields=True)
    return message


def job_spec_of(spec_json: str) -> Any:
    """The backing CustomJob's spec: the custom task's inputs."""
    spec = types_module("v1").CustomJobSpec.pb()()
    json_format.ParseDict(
        json_format.MessageToDict(parsed(spec_json).training_task_inputs),  # type: ignore[attr-defined]
        spec,
        ignore_unknown_fields=True,
    )
    return spec


def backing_job_name(p: Pipeline) -> str:
    return names.job_name(p.project, p.location, p.backing_job_id)


def pipeline_message(p: Pipeline, version: str) -> Message:
    message: Any = pipeline_class(version)()
    json_format.Parse(p.spec_json, message, ignore_unknown_fields=True)
    message.name = names.resource_name(p.project, p.location, COLLECTION, p.id)
    set_job_status(message, p)
    if p.submitted_us is not None:
        message.training_task_metadata.struct_value.update({"backingCustomJob": backing_job_name(p)})
    if p.model_name is not None and message.HasField("model_to_upload"):
        message.model_to_upload.name = p.model_name
        message.model_to_upload.version_id = p.model_version or ""
    return message


def list_response(pipelines: list[Pipeline], version: str, next_token: str) -> Message:
    response: Any = types_module(version).ListTrainingPipelinesResponse.pb()(next_page_token=next_token)
    for p in pipelines:
        response.training_pipelines.append(pipeline_message(p, version))
    return response
