"""Vertex JSON in and out for CustomJobs, through the official messages and json_format.

Requests are parsed strictly (unknown fields are Google's 400), output-only fields a
client sends are dropped (AIP-203), and answers are the proto3 JSON mapping: camelCase,
int64 as strings, enum names, RFC 3339 timestamps.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from typing import Any

from google.protobuf import json_format
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.message import Message

from customjobs import names
from customjobs.domain.job import Job, NewJob
from customjobs.domain.states import JobState
from customjobs.errors import FieldViolation, InvalidArgument
from customjobs.resources.custom_jobs.validation import validate_custom_job
from customjobs.wire.job_status import set_job_status
from customjobs.wire.messages import types_for

_OUTPUT_ONLY = (
    "name",
    "state",
    "create_time",
    "start_time",
    "end_time",
    "update_time",
    "error",
    "web_access_uris",
    "satisfies_pzs",
    "satisfies_pzi",
)
DEFAULT_BOOT_DISK_TYPE = "pd-ssd"
# Parsed specs kept for rendering: listing pages and polling clients reread the same jobs.
SPEC_CACHE_SIZE = 4096
# Rendered answers kept for polled jobs (job_dict), a few kB each.
ANSWER_CACHE_SIZE = 1024
DEFAULT_BOOT_DISK_SIZE_GB = 100

_UNKNOWN_FIELD = re.compile(r'has no field named "([^"]+)" at "([^"]+)"')
_FAILED_FIELD = re.compile(r"Failed to parse (\w+) field")
_ONEOF_TWICE = re.compile(
    r'Message type "([\w.]+)" should not have multiple "(\w+)" oneof fields at "([^"]+)"'
)
_PATH_STEP = re.compile(r"(\w+)(?:\[(\d+)\])?")
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake(path: str) -> str:
    return _CAMEL_HUMP.sub(r"_\1", path).lower()


def _json_error(message: str, field: str) -> InvalidArgument:
    text = f"Invalid JSON payload received. {message}"
    return InvalidArgument(text, (FieldViolation(field, text),))


def parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _json_error(f"Unexpected token. {exc}", "") from exc
    except RecursionError as exc:  # `[[[[...` nested deeper than the parser goes
        raise _json_error("The JSON is nested too deeply.", "") from exc
    if not isinstance(data, dict):
        raise _json_error("Expected a JSON object at the top level.", "")
    return data


def parse_message(data: dict[str, Any], message: Message, root: str) -> None:
    """json_format.ParseDict with Google's front-end wording for what it rejects."""
    try:
        json_format.ParseDict(data, message, ignore_unknown_fields=False)
    except json_format.ParseError as exc:
        text = str(exc)
        unknown = _UNKNOWN_FIELD.search(text)
        if unknown:
            at = ".".join([root, *(snake(p) for p in unknown[2].split(".")[1:])])
            raise _json_error(f"Unknown name \"{unknown[1]}\" at '{at}': Cannot find field.", at) from exc
        twice = _ONEOF_TWICE.search(text)
        if twice:
            raise _oneof_error(data, message, root, *twice.groups()) from exc
        at = ".".join([root, *(snake(p) for p in _FAILED_FIELD.findall(text))])
        reason = text.rsplit(": ", 1)[-1].rstrip(".")
        raise _json_error(f"Invalid value at '{at}': {reason}.", at) from exc


def _oneof_error(
    data: dict[str, Any], message: Message, root: str, type_name: str, oneof: str, where: str
) -> InvalidArgument:
    """Google's front end on a oneof set twice: the element's path, and the member it refused
    (the second one the JSON names, as the parser reads members in order)."""
    steps = [_PATH_STEP.fullmatch(step) for step in where.split(".")[1:]]
    at = root
    node: Any = data
    for step in steps:
        if step is None:
            break
        name, index = step.groups()
        at += f".{snake(name)}" + (f"[{index}]" if index is not None else "")
        node = node.get(name, node.get(snake(name), {})) if isinstance(node, dict) else {}
        if index is not None:
            node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else {}
    descriptor = message.DESCRIPTOR.file.pool.FindMessageTypeByName(type_name)
    members = {n for f in descriptor.oneofs_by_name[oneof].fields for n in (f.name, f.json_name)}
    given = [key for key in (node if isinstance(node, dict) else {}) if key in members]
    refused = given[1] if len(given) > 1 else (given[0] if given else oneof)
    return _json_error(
        f"Invalid value at '{at}' (oneof), oneof field '{oneof}' is already set. Cannot set '{refused}'", at
    )


def parse_custom_job(body: bytes, version: str) -> Message:
    """A create request's JSON body as the version's CustomJob message (strict, Google's 400s)."""
    message = types_for(version).custom_job()
    parse_message(parse_json_object(body), message, "custom_job")
    return message


def decode_new_job(message: Message, project: str, location: str) -> NewJob:
    """A CustomJob from a create request as a validated NewJob, or every problem in one 400."""
    message = type(message).FromString(message.SerializeToString())
    for field in _OUTPUT_ONLY:
        message.ClearField(field)
    violations = validate_custom_job(message)
    if violations:
        raise InvalidArgument.from_violations(violations)
    for pool in message.job_spec.worker_pool_specs:
        if pool.ListFields() and not pool.HasField("disk_spec"):
            pool.disk_spec.boot_disk_type = DEFAULT_BOOT_DISK_TYPE
            pool.disk_spec.boot_disk_size_gb = DEFAULT_BOOT_DISK_SIZE_GB
    return NewJob(
        project=project,
        location=location,
        display_name=message.display_name,
        labels=dict(message.labels),
        spec_json=json_format.MessageToJson(message, indent=None),
    )


@functools.lru_cache(maxsize=SPEC_CACHE_SIZE)
def _parsed_spec(version: str, spec_json: str) -> Message:
    """A job's stored spec never changes: parse it once per version, copy it per answer."""
    message = types_for(version).custom_job()
    # Specs may come from the other API version: fields this version lacks are dropped.
    json_format.Parse(spec_json, message, ignore_unknown_fields=True)
    return message


@dataclasses.dataclass(frozen=True)
class _Shown:
    """All of a job that its message shows, and nothing else: two equal ones render the same
    answer, so it keys the cache of rendered answers below."""

    id: int
    project: str
    location: str
    spec_json: str
    state: JobState
    create_us: int
    update_us: int
    start_us: int | None
    end_us: int | None
    error_code: int | None
    error_message: str | None
    web_access_uris: tuple[tuple[str, str], ...]


def _shown(job: Job) -> _Shown:
    return _Shown(
        job.id,
        job.project,
        job.location,
        job.spec_json,
        job.state,
        job.create_us,
        job.update_us,
        job.start_us,
        job.end_us,
        job.error_code,
        job.error_message,
        tuple(sorted(job.web_access_uris.items())),
    )


def _message(shown: _Shown, version: str) -> Message:
    message = types_for(version).custom_job()
    message.CopyFrom(_parsed_spec(version, shown.spec_json))
    _set_status(message, shown)
    return message


def _set_status(message: Message, shown: _Shown) -> None:
    """Every field of the answer that the stored spec does not hold."""
    message.name = names.job_name(shown.project, shown.location, shown.id)
    set_job_status(message, shown)
    message.web_access_uris.update(dict(shown.web_access_uris))


def job_message(job: Job, version: str) -> Message:
    return _message(_shown(job), version)


@functools.lru_cache(maxsize=ANSWER_CACHE_SIZE)
def _answer(shown: _Shown, version: str) -> dict[str, Any]:
    """to_dict(_message(shown, version)), in two parts: the stored spec's fields, rendered
    once per spec (the jobs of a sweep share one), and the job's own (name, state, times,
    error), a small message rendered per answer. The two sets of fields are disjoint (the
    spec was stored with its output-only fields cleared), so together they are the whole."""
    status = types_for(version).custom_job()
    _set_status(status, shown)
    merged = {**_spec_dict(version, shown.spec_json), **to_dict(status)}
    return {key: merged[key] for key in _json_order(version) if key in merged}


@functools.lru_cache(maxsize=SPEC_CACHE_SIZE)
def _spec_dict(version: str, spec_json: str) -> dict[str, Any]:
    return to_dict(_parsed_spec(version, spec_json))


@functools.cache
def _json_order(version: str) -> tuple[str, ...]:
    """CustomJob's JSON member names in field-number order: the order MessageToDict writes."""
    fields = sorted(types_for(version).custom_job.DESCRIPTOR.fields, key=lambda f: f.number)
    return tuple(f.json_name for f in fields)


def job_dict(job: Job, version: str) -> dict[str, Any]:
    """to_dict(job_message(job, version)), rendered once per version of the job: a client
    polling an unchanged job (the SDK's wait loop, a dashboard) costs no rendering. The
    members are shared with the cache: callers may add members, never change one."""
    return dict(_answer(_shown(job), version))


def read_mask_from_text(text: str) -> FieldMask | None:
    """REST's readMask query value ("displayName,state") as a FieldMask."""
    if not text:
        return None
    mask = FieldMask()
    try:
        mask.FromJsonString(text)
    except ValueError as exc:
        raise InvalidArgument(f'Invalid read_mask "{text}": {exc}') from exc
    return mask


def checked_read_mask(mask: FieldMask | None, version: str) -> FieldMask | None:
    """A read mask with snake_case paths that all name CustomJob fields; None when empty."""
    if mask is None or not mask.paths:
        return None
    result = FieldMask(paths=[snake(p) for p in mask.paths])
    if not result.IsValidForDescriptor(types_for(version).custom_job.DESCRIPTOR):
        text = ",".join(mask.paths)
        raise InvalidArgument(
            f'Invalid read_mask "{text}": it names a field that CustomJob does not have.',
            (FieldViolation("read_mask", "names a field that CustomJob does not have"),),
        )
    return result


def masked(message: Message, mask: FieldMask | None) -> Message:
    """Only the fields the read mask names (and the name, which identifies the job)."""
    if mask is None:
        return message
    result = type(message)()
    mask.MergeMessage(message, result)
    result.name = message.name
    return result


def list_dict(jobs: list[Job], version: str, next_token: str) -> dict[str, Any]:
    """to_dict(list_response(jobs, version, next_token, None)), from the answers' cache."""
    result: dict[str, Any] = {}
    if jobs:
        result["customJobs"] = [job_dict(job, version) for job in jobs]
    if next_token:
        result["nextPageToken"] = next_token
    return result


def list_response(jobs: list[Job], version: str, next_token: str, mask: FieldMask | None) -> Message:
    response = types_for(version).list_response(next_page_token=next_token)
    for job in jobs:
        response.custom_jobs.append(masked(job_message(job, version), mask))
    return response


def to_dict(message: Message) -> dict[str, Any]:
    """proto3 JSON: camelCase, int64 as strings, enum names, RFC 3339 times, defaults left out."""
    result: dict[str, Any] = json_format.MessageToDict(message)
    return result
