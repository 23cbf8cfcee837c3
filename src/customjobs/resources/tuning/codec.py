"""Vertex JSON in and out for HyperparameterTuningJobs, through the official messages.

Parsing reuses the CustomJob codec's strict parser (Google's 400 wording); validation
reports every bad field at once, with snake_case paths relative to the tuning job; the
study spec becomes the search's `Space` here, so the search never reads a message.
"""

from __future__ import annotations

import functools
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from customjobs import names
from customjobs.domain.tuning import NewTuningJob, TuningJob
from customjobs.errors import FieldViolation, InvalidArgument
from customjobs.resources.custom_jobs.codec import parse_json_object, parse_message
from customjobs.resources.custom_jobs.validation import REQUIRED, validate_job_resource
from customjobs.resources.tuning.study import GRID_SEARCH, LOG, REVERSE_LOG, Param, Space
from customjobs.wire.job_status import set_job_status
from customjobs.wire.messages import types_module

_OUTPUT_ONLY = ("name", "trials", "state", "create_time", "start_time", "end_time", "update_time", "error")
_VALUE_SPECS = ("double_value_spec", "integer_value_spec", "categorical_value_spec", "discrete_value_spec")
_GOALS = {"MAXIMIZE": "maximize", "MINIMIZE": "minimize"}


def tuning_job_class(version: str) -> Any:
    return types_module(version).HyperparameterTuningJob.pb()


def parse_tuning_job(body: bytes, version: str) -> Message:
    message = tuning_job_class(version)()
    parse_message(parse_json_object(body), message, "hyperparameter_tuning_job")
    return message


def decode_new(message: Message, project: str, location: str) -> NewTuningJob:
    """A create request's tuning job as a NewTuningJob, or every problem in one 400."""
    message = type(message).FromString(message.SerializeToString())
    for field in _OUTPUT_ONLY:
        message.ClearField(field)
    violations = validate_job_resource(message, "trial_job_spec") + validate_study(message)
    if violations:
        raise InvalidArgument.from_violations(violations)
    job: Any = message
    return NewTuningJob(
        project=project,
        location=location,
        display_name=job.display_name,
        labels=dict(job.labels),
        spec_json=json_format.MessageToJson(message, indent=None),
    )


def validate_study(job: Any) -> list[FieldViolation]:
    out: list[FieldViolation] = []
    if job.max_trial_count <= 0:
        out.append(
            FieldViolation("max_trial_count", REQUIRED if job.max_trial_count == 0 else "Must be positive.")
        )
    if job.parallel_trial_count <= 0:
        problem = REQUIRED if job.parallel_trial_count == 0 else "Must be positive."
        out.append(FieldViolation("parallel_trial_count", problem))
    elif job.max_trial_count > 0 and job.parallel_trial_count > job.max_trial_count:
        out.append(
            FieldViolation(
                "parallel_trial_count",
                f"Must not be greater than max_trial_count ({job.max_trial_count}).",
            )
        )
    if job.max_failed_trial_count < 0:
        out.append(FieldViolation("max_failed_trial_count", "Must not be negative."))
    if not job.HasField("study_spec"):
        out.append(FieldViolation("study_spec", REQUIRED))
        return out
    spec = job.study_spec
    if not spec.metrics:
        out.append(FieldViolation("study_spec.metrics", REQUIRED))
    seen_metrics: set[str] = set()
    for i, metric in enumerate(spec.metrics):
        path = f"study_spec.metrics[{i}]"
        if not metric.metric_id:
            out.append(FieldViolation(f"{path}.metric_id", REQUIRED))
        elif metric.metric_id in seen_metrics:
            out.append(FieldViolation(f"{path}.metric_id", f'Metric "{metric.metric_id}" is given twice.'))
        seen_metrics.add(metric.metric_id)
        if enum_name(metric, "goal") not in _GOALS:
            out.append(FieldViolation(f"{path}.goal", REQUIRED))
    if not spec.parameters:
        out.append(FieldViolation("study_spec.parameters", REQUIRED))
    grid = enum_name(spec, "algorithm") == GRID_SEARCH
    seen: set[str] = set()
    for i, param in enumerate(spec.parameters):
        _check_parameter(param, f"study_spec.parameters[{i}]", grid, seen, out)
    return out


def _check_parameter(param: Any, path: str, grid: bool, seen: set[str], out: list[FieldViolation]) -> None:
    if not param.parameter_id:
        out.append(FieldViolation(f"{path}.parameter_id", REQUIRED))
    elif param.parameter_id in seen:
        message = f'Parameter "{param.parameter_id}" is given twice.'
        out.append(FieldViolation(f"{path}.parameter_id", message))
    seen.add(param.parameter_id)
    kind = param.WhichOneof("parameter_value_spec")
    scale = enum_name(param, "scale_type")
    if kind is None:
        out.append(FieldViolation(path, f"Exactly one of fields [{', '.join(_VALUE_SPECS)}] is required."))
    elif kind in ("double_value_spec", "integer_value_spec"):
        bounds = getattr(param, kind)
        # proto3 cannot tell a bound left out from 0: bounds [0, 0] are bounds never given.
        if bounds.min_value == bounds.max_value == 0:
            out.append(FieldViolation(f"{path}.{kind}.max_value", REQUIRED))
        elif bounds.min_value > bounds.max_value:
            out.append(
                FieldViolation(
                    f"{path}.{kind}.min_value",
                    f"min_value ({bounds.min_value}) must not be greater than "
                    f"max_value ({bounds.max_value}).",
                )
            )
        elif scale in (LOG, REVERSE_LOG) and bounds.min_value <= 0:
            out.append(FieldViolation(f"{path}.{kind}.min_value", f"Must be positive for {scale}."))
        if grid and kind == "double_value_spec":
            message = "GRID_SEARCH needs every parameter to be INTEGER, CATEGORICAL or DISCRETE."
            out.append(FieldViolation(f"{path}.double_value_spec", message))
    else:
        values = getattr(param, kind).values
        if not values:
            out.append(FieldViolation(f"{path}.{kind}.values", REQUIRED))
        elif len(set(values)) != len(values):
            out.append(FieldViolation(f"{path}.{kind}.values", "Values must be distinct."))
        if kind == "categorical_value_spec" and scale != "SCALE_TYPE_UNSPECIFIED":
            message = "A categorical parameter takes no scale_type."
            out.append(FieldViolation(f"{path}.scale_type", message))
    for k, conditional in enumerate(param.conditional_parameter_specs):
        child_path = f"{path}.conditional_parameter_specs[{k}]"
        _check_parameter(conditional.parameter_spec, f"{child_path}.parameter_spec", grid, seen, out)


def enum_name(message: Any, field: str) -> str:
    descriptor = message.DESCRIPTOR.fields_by_name[field].enum_type
    return str(descriptor.values_by_number[getattr(message, field)].name)


@functools.lru_cache(maxsize=1024)
def parsed(spec_json: str) -> Message:
    """A stored tuning job's input fields as a v1 message (v1beta1's extras are not read here)."""
    message = tuning_job_class("v1")()
    json_format.Parse(spec_json, message, ignore_unknown_fields=True)
    return message


def space_of(spec_json: str) -> Space:
    study: Any = parsed(spec_json)
    spec = study.study_spec
    directions = tuple(_GOALS[enum_name(m, "goal")] for m in spec.metrics)
    return Space(tuple(_param(p) for p in spec.parameters), directions, enum_name(spec, "algorithm"))


def _param(spec: Any) -> Param:
    kind = spec.WhichOneof("parameter_value_spec").removesuffix("_value_spec")
    values: tuple[Any, ...] = ()
    low = high = 0.0
    if kind in ("double", "integer"):
        bounds = getattr(spec, f"{kind}_value_spec")
        low, high = float(bounds.min_value), float(bounds.max_value)
    else:
        values = tuple(getattr(spec, f"{kind}_value_spec").values)
    children = []
    for conditional in spec.conditional_parameter_specs:
        parents = conditional.WhichOneof("parent_value_condition")
        parent_values = tuple(getattr(conditional, parents).values) if parents else ()
        children.append((parent_values, (_param(conditional.parameter_spec),)))
    scale = enum_name(spec, "scale_type")
    return Param(spec.parameter_id, kind, low, high, values, scale, tuple(children))


def job_message(job: TuningJob, trials: list[dict[str, Any]], version: str) -> Message:
    message: Any = tuning_job_class(version)()
    json_format.Parse(job.spec_json, message, ignore_unknown_fields=True)
    message.name = names.resource_name(job.project, job.location, "hyperparameterTuningJobs", job.id)
    set_job_status(message, job)
    for trial in trials:
        json_format.ParseDict(trial, message.trials.add(), ignore_unknown_fields=True)
    return message


def list_response(
    jobs: list[tuple[TuningJob, list[dict[str, Any]]]], version: str, next_token: str
) -> Message:
    response: Any = types_module(version).ListHyperparameterTuningJobsResponse.pb()(
        next_page_token=next_token
    )
    for job, trials in jobs:
        response.hyperparameter_tuning_jobs.append(job_message(job, trials, version))
    return response
