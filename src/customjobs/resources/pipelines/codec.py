"""Vertex JSON in and out for TrainingPipelines, through the official messages.

This server runs two training tasks. The custom task's `trainingTaskInputs` is a
CustomJobSpec held in a google.protobuf.Value, parsed with the same strict parser and
checked by the same rules as a CustomJob's jobSpec, paths under `training_task_inputs`; the
hyperparameter-tuning task's are a HyperparameterTuningJob's studySpec, trialJobSpec and
trial counts, checked as a tuning job's. Snake_case or camelCase keys both parse (the SDK
sends snake_case). Other task definitions (AutoML) are refused.
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
from customjobs.resources.custom_jobs.validation import (
    REQUIRED,
    common_violations,
    job_spec_violations,
    validate_job_resource,
)
from customjobs.resources.models import codec as models_codec
from customjobs.resources.tuning.codec import validate_study
from customjobs.wire.job_status import set_job_status
from customjobs.wire.messages import types_module

COLLECTION = "trainingPipelines"
SCHEMA_ROOT = "gs://google-cloud-aiplatform/schema/trainingjob/definition/"
CUSTOM_TASK = SCHEMA_ROOT + "custom_task_1.0.0.yaml"
TUNING_TASK = SCHEMA_ROOT + "hyperparameter_tuning_task_1.0.0.yaml"
# The tuning task's inputs are these fields of a HyperparameterTuningJob.
_TUNING_INPUTS = (
    "study_spec",
    "trial_job_spec",
    "max_trial_count",
    "parallel_trial_count",
    "max_failed_trial_count",
)
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
    elif definition == CUSTOM_TASK:
        spec = _task_inputs(pipeline, violations)
        if spec is not None:
            violations += job_spec_violations(spec, "training_task_inputs")
            _set_inputs(pipeline, spec)
            if pipeline.HasField("model_to_upload"):
                violations += _model_violations(pipeline, spec.HasField("base_output_directory"), where)
    elif definition == TUNING_TASK:
        study = _tuning_inputs(pipeline, violations)
        if study is not None:
            violations += _study_violations(study)
            _set_inputs(pipeline, study)
            if pipeline.HasField("model_to_upload"):
                has_base = study.trial_job_spec.HasField("base_output_directory")
                violations += _model_violations(pipeline, has_base, where, "trial_job_spec.")
    else:
        violations.append(
            FieldViolation(
                "training_task_definition",
                f'"{definition}" is not a training task this server runs: it runs custom training '
                f'("{CUSTOM_TASK}") and hyperparameter tuning ("{TUNING_TASK}"), not AutoML.',
            )
        )
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


def _inputs_dict(pipeline: Any, what: str, out: list[FieldViolation]) -> dict[str, Any] | None:
    if not pipeline.HasField("training_task_inputs"):
        out.append(FieldViolation("training_task_inputs", REQUIRED))
        return None
    value = json_format.MessageToDict(pipeline.training_task_inputs)
    if not isinstance(value, dict):
        out.append(FieldViolation("training_task_inputs", f"Must be an object: the task's {what}."))
        return None
    return value


def _version(message: Any) -> str:
    return str(message.DESCRIPTOR.full_name.split(".")[-2])  # google.cloud.aiplatform.<version>.X


def _task_inputs(pipeline: Any, out: list[FieldViolation]) -> Any:
    """The custom task's inputs as a CustomJobSpec; None (with the violation) when they aren't one."""
    value = _inputs_dict(pipeline, "CustomJobSpec", out)
    if value is None:
        return None
    spec = types_module(_version(pipeline)).CustomJobSpec.pb()()
    parse_message(value, spec, "training_pipeline.training_task_inputs")
    return spec


def _tuning_inputs(pipeline: Any, out: list[FieldViolation]) -> Any:
    """The tuning task's inputs (studySpec, trialJobSpec, trial counts) as a HyperparameterTuningJob."""
    value = _inputs_dict(pipeline, "studySpec, trialJobSpec and trial counts", out)
    if value is None:
        return None
    study = types_module(_version(pipeline)).HyperparameterTuningJob.pb()()
    fields = study.DESCRIPTOR.fields_by_name
    allowed = {name for f in _TUNING_INPUTS for name in (f, fields[f].json_name)}
    for key in value:
        if key not in allowed:
            at = f"training_pipeline.training_task_inputs.{key}"
            raise InvalidArgument(
                f"Invalid JSON payload received. Unknown name \"{key}\" at '{at}': Cannot find field.",
                (FieldViolation(at, "Cannot find field."),),
            )
    parse_message(value, study, "training_pipeline.training_task_inputs")
    return study


def _study_violations(study: Any) -> list[FieldViolation]:
    """The tuning job's own rules, on the fields the task takes, paths under training_task_inputs."""
    study.display_name = "task"  # the pipeline's own name is checked as the pipeline's
    found = validate_job_resource(study, "trial_job_spec") + validate_study(study)
    return [FieldViolation(f"training_task_inputs.{v.field}", v.description) for v in found]


def _set_inputs(pipeline: Any, message: Any) -> None:
    """Kept as Vertex answers it: the inputs' proto3 JSON (camelCase, int64 as strings)."""
    value = json_format.MessageToDict(message)
    value.pop("displayName", None)
    pipeline.ClearField("training_task_inputs")
    json_format.ParseDict(value, pipeline.training_task_inputs)


def _model_violations(
    pipeline: Any, has_base: bool, where: names.Parent, spec_path: str = ""
) -> list[FieldViolation]:
    out = models_codec.model_violations(pipeline.model_to_upload, "model_to_upload")
    out += models_codec.target_violations(pipeline.model_id, pipeline.parent_model, where)
    if not pipeline.model_to_upload.artifact_uri and not has_base:
        out.append(
            FieldViolation(
                f"training_task_inputs.{spec_path}base_output_directory",
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


def is_tuning(spec_json: str) -> bool:
    return bool(parsed(spec_json).training_task_definition == TUNING_TASK)  # type: ignore[attr-defined]


def tuning_job_of(spec_json: str) -> Message:
    """The backing HyperparameterTuningJob: the task's inputs, the pipeline's name, labels and key."""
    pipeline: Any = parsed(spec_json)
    job: Any = types_module("v1").HyperparameterTuningJob.pb()()
    json_format.ParseDict(
        json_format.MessageToDict(pipeline.training_task_inputs), job, ignore_unknown_fields=True
    )
    job.display_name = pipeline.display_name
    job.labels.update(pipeline.labels)
    if pipeline.HasField("encryption_spec"):
        job.encryption_spec.CopyFrom(pipeline.encryption_spec)
    return job  # type: ignore[no-any-return]


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
        if message.training_task_definition == TUNING_TASK:
            backing = {
                "backingHyperparameterTuningJob": names.resource_name(
                    p.project, p.location, "hyperparameterTuningJobs", p.backing_job_id
                )
            }
        else:
            backing = {"backingCustomJob": backing_job_name(p)}
        message.training_task_metadata.struct_value.update(backing)
    if p.model_name is not None and message.HasField("model_to_upload"):
        message.model_to_upload.name = p.model_name
        message.model_to_upload.version_id = p.model_version or ""
    return message


def list_response(pipelines: list[Pipeline], version: str, next_token: str) -> Message:
    response: Any = types_module(version).ListTrainingPipelinesResponse.pb()(next_page_token=next_token)
    for p in pipelines:
        response.training_pipelines.append(pipeline_message(p, version))
    return response
