"""Resource names: projects/{p}/locations/{l}/customJobs/{id}, operations, and new ids.

Ids are positive 64-bit integers printed as 19 digits, like Vertex's. The high bits hold
the creation time in microseconds so ids of one server grow with time; the low bits are
random so that several servers sharing one database never collide.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass

from customjobs.errors import InvalidArgument

_ID_RANDOM_BITS = 11
_ID_TOP_BIT = 1 << 62  # keeps every id at 19 decimal digits
_SEGMENT = r"[^/:]+"
_JOB_RE = re.compile(rf"^projects/({_SEGMENT})/locations/({_SEGMENT})/customJobs/({_SEGMENT})$")
_PARENT_RE = re.compile(rf"^projects/({_SEGMENT})/locations/({_SEGMENT})$")
_OPERATION_RE = re.compile(
    rf"^projects/({_SEGMENT})/locations/({_SEGMENT})(?:/customJobs/({_SEGMENT}))?/operations/({_SEGMENT})$"
)
_OPERATIONS_PARENT_RE = re.compile(
    rf"^projects/({_SEGMENT})/locations/({_SEGMENT})(?:/customJobs/({_SEGMENT}))?$"
)


def new_id() -> int:
    micros = time.time_ns() // 1000
    return _ID_TOP_BIT | ((micros << _ID_RANDOM_BITS) & (_ID_TOP_BIT - 1)) | secrets.randbits(_ID_RANDOM_BITS)


def parse_id(text: str, what: str = "custom job") -> int:
    """A path's id segment as an integer; anything else names no resource of ours."""
    if not text.isdigit() or len(text) > 19 or int(text) >= 1 << 63:
        raise InvalidArgument(f'Invalid {what} id "{text}": ids are positive 64-bit decimal integers.')
    return int(text)


@dataclass(frozen=True)
class Parent:
    project: str
    location: str

    def __str__(self) -> str:
        return f"projects/{self.project}/locations/{self.location}"


# The store's column widths: longer names could never have been created, and a database
# that enforces widths (PostgreSQL) must never see them.
MAX_PROJECT_CHARS = 128
MAX_LOCATION_CHARS = 64


def _parent(project: str, location: str) -> Parent:
    if len(project) > MAX_PROJECT_CHARS:
        raise InvalidArgument(f"Invalid project: longer than {MAX_PROJECT_CHARS} characters.")
    if len(location) > MAX_LOCATION_CHARS:
        raise InvalidArgument(f"Invalid location: longer than {MAX_LOCATION_CHARS} characters.")
    return Parent(project, location)


def parse_parent(text: str) -> Parent:
    match = _PARENT_RE.match(text)
    if match is None:
        raise InvalidArgument(
            f'Invalid parent "{text}": expected projects/{{project}}/locations/{{location}}.'
        )
    return _parent(match[1], match[2])


def job_name(project: str, location: str, job_id: int) -> str:
    return f"projects/{project}/locations/{location}/customJobs/{job_id}"


def resource_name(project: str, location: str, collection: str, resource_id: int) -> str:
    return f"projects/{project}/locations/{location}/{collection}/{resource_id}"


def parse_resource_name(text: str, collection: str, what: str) -> tuple[Parent, int]:
    """`projects/{p}/locations/{l}/{collection}/{id}`, e.g. a hyperparameterTuningJobs name."""
    match = re.match(rf"^projects/({_SEGMENT})/locations/({_SEGMENT})/{collection}/({_SEGMENT})$", text)
    if match is None:
        raise InvalidArgument(
            f'Invalid {what} name "{text}": expected projects/{{project}}/locations/{{location}}'
            f"/{collection}/{{id}}."
        )
    return _parent(match[1], match[2]), parse_id(match[3], what)


def operation_name(project: str, location: str, op_id: int) -> str:
    return f"projects/{project}/locations/{location}/operations/{op_id}"


def parse_job_name(text: str) -> tuple[Parent, int]:
    match = _JOB_RE.match(text)
    if match is None:
        raise InvalidArgument(
            f'Invalid custom job name "{text}": expected projects/{{project}}/locations/{{location}}'
            "/customJobs/{custom_job}."
        )
    return _parent(match[1], match[2]), parse_id(match[3])


@dataclass(frozen=True)
class OperationRef:
    """An operation's name: location-level, or nested under the custom job it belongs to."""

    parent: Parent
    op_id: int
    job_id: int | None


def parse_operation_name(text: str) -> OperationRef:
    match = _OPERATION_RE.match(text)
    if match is None:
        raise InvalidArgument(f'Invalid operation name "{text}".')
    job_id = parse_id(match[3]) if match[3] else None
    return OperationRef(_parent(match[1], match[2]), parse_id(match[4], "operation"), job_id)


def parse_operations_parent(text: str) -> tuple[Parent, int | None]:
    """The `name` of a ListOperations request: a location, or a custom job."""
    match = _OPERATIONS_PARENT_RE.match(text)
    if match is None:
        raise InvalidArgument(f'Invalid operations collection "{text}".')
    return _parent(match[1], match[2]), parse_id(match[3]) if match[3] else None
