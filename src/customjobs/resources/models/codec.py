"""Vertex JSON in and out for Models, through the official messages.

An upload's Model keeps what the caller gave (display name, serving container, artifact
URI, schemata, labels...) as proto JSON; the registry adds the name, version, aliases and
times when it answers. Validation reports every bad field at once, with snake_case paths
under `model` (UploadModel) or `model_to_upload` (a training pipeline).
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from customjobs import names
from customjobs.domain.model import ModelVersion, NewModelVersion
from customjobs.errors import FieldViolation, InvalidArgument
from customjobs.resources.custom_jobs.codec import parse_json_object, parse_message
from customjobs.resources.custom_jobs.validation import OUTPUT_URI_PREFIXES, REQUIRED, common_violations
from customjobs.resources.models.names import ALIAS, given_id_problem, model_name, parse_model_name
from customjobs.wire.messages import types_module

# What a client may send but the registry sets: Vertex ignores them on upload (AIP-203).
_OUTPUT_ONLY = (
    "name",
    "version_id",
    "version_create_time",
    "version_update_time",
    "training_pipeline",
    "pipeline_job",
    "supported_export_formats",
    "supported_deployment_resources_types",
    "supported_input_storage_formats",
    "supported_output_storage_formats",
    "create_time",
    "update_time",
    "deployed_models",
    "etag",
    "model_source_info",
    "original_model_info",
    "metadata_artifact",
    "satisfies_pzs",
    "satisfies_pzi",
    "checkpoints",
)


def model_class(version: str) -> Any:
    return types_module(version).Model.pb()


def parse_upload_request(body: bytes, version: str) -> Message:
    message: Message = types_module(version).UploadModelRequest.pb()()
    parse_message(parse_json_object(body), message, "")
    return message


def decode_upload(request: Message, where: names.Parent) -> NewModelVersion:
    """An UploadModelRequest as the version to add, or every problem in one 400."""
    req: Any = request
    violations = target_violations(req.model_id, req.parent_model, where)
    if req.HasField("model"):
        violations += model_violations(req.model, "model")
    else:
        violations.insert(0, FieldViolation("model", REQUIRED))
    if violations:
        raise InvalidArgument.from_violations(violations)
    return new_version(req.model, where, req.model_id, req.parent_model)


def model_violations(model: Any, path: str) -> list[FieldViolation]:
    out = common_violations(model, f"{path}.")
    if not model.container_spec.image_uri:
        out.append(FieldViolation(f"{path}.container_spec.image_uri", REQUIRED))
    if model.artifact_uri and not model.artifact_uri.startswith(OUTPUT_URI_PREFIXES):
        out.append(
            FieldViolation(
                f"{path}.artifact_uri", "Must be a gs:// URI, a file:// URI or an absolute local path."
            )
        )
    seen: set[str] = set()
    for i, alias in enumerate(model.version_aliases):
        if not ALIAS.fullmatch(alias) or alias in seen:
            problem = "is given twice" if alias in seen else "must match [a-z][a-zA-Z0-9-]{0,126}[a-z0-9]"
            out.append(FieldViolation(f"{path}.version_aliases[{i}]", f'Alias "{alias}" {problem}.'))
        seen.add(alias)
    return out


def target_violations(
    model_id: str, parent_model: str, where: names.Parent, prefix: str = ""
) -> list[FieldViolation]:
    """`model_id` (a new model's id) and `parent_model` (the model a version joins)."""
    out: list[FieldViolation] = []
    if model_id and not parent_model:
        problem = given_id_problem(model_id)
        if problem:
            out.append(FieldViolation(f"{prefix}model_id", problem))
    if parent_model:
        try:
            ref = parse_model_name(parent_model, versioned=False)
        except InvalidArgument as exc:
            out.append(FieldViolation(f"{prefix}parent_model", exc.message))
        else:
            if ref.parent != where:
                message = f"Must be a model in {where}."
                out.append(FieldViolation(f"{prefix}parent_model", message))
    return out


def cleaned(model: Message) -> Message:
    copy = type(model).FromString(model.SerializeToString())
    for field in _OUTPUT_ONLY:
        copy.ClearField(field)
    return copy


def new_version(
    model: Any,
    where: names.Parent,
    model_id: str,
    parent_model: str,
    source_pipeline_id: int | None = None,
) -> NewModelVersion:
    """What the registry adds for an upload (already validated)."""
    clean: Any = cleaned(model)
    aliases = tuple(clean.version_aliases)
    clean.ClearField("version_aliases")
    joins = bool(parent_model)
    return NewModelVersion(
        project=where.project,
        location=where.location,
        display_name=clean.display_name,
        labels=dict(clean.labels),
        spec_json=json_format.MessageToJson(clean, indent=None),
        aliases=aliases,
        model_id=parse_model_name(parent_model).model_id if joins else (model_id or None),
        joins_existing=joins,
        source_pipeline_id=source_pipeline_id,
    )


def model_message(v: ModelVersion, version: str) -> Message:
    message: Any = model_class(version)()
    json_format.Parse(v.spec_json, message, ignore_unknown_fields=True)
    message.name = model_name(v.project, v.location, v.model_id)
    message.version_id = str(v.version_id)
    message.version_aliases[:] = v.aliases
    message.version_create_time.FromMicroseconds(v.create_us)
    message.version_update_time.FromMicroseconds(v.update_us)
    message.create_time.FromMicroseconds(v.model_create_us)
    message.update_time.FromMicroseconds(v.update_us)
    message.labels.clear()
    message.labels.update(v.labels)
    if v.source_pipeline_id is not None:
        message.training_pipeline = names.resource_name(
            v.project, v.location, "trainingPipelines", v.source_pipeline_id
        )
    json_format.ParseDict({"sourceType": "CUSTOM"}, message.model_source_info)
    return message


def list_response(kind: str, models: list[ModelVersion], version: str, next_token: str) -> Message:
    """`kind` is ListModelsResponse or ListModelVersionsResponse: both hold `models`."""
    response: Any = getattr(types_module(version), kind).pb()(next_page_token=next_token)
    for model in models:
        response.models.append(model_message(model, version))
    return response


def upload_result(project: str, location: str, model_id: str, version_id: int) -> str:
    """The UploadModelResponse an upload's operation answers, as proto JSON."""
    response = types_module("v1").UploadModelResponse.pb()(
        model=model_name(project, location, model_id), model_version_id=str(version_id)
    )
    return str(json_format.MessageToJson(response, indent=None))
