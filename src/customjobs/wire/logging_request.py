"""The body of Cloud Logging's entries:list, checked field by field as Google's front end does.

Every field is typed (a list of strings, an int32, ...), so a body that gets a type
wrong is Google's 400 naming the field, never a failure deeper in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from customjobs.errors import FieldViolation, InvalidArgument

FIELDS = frozenset({"resourceNames", "filter", "orderBy", "pageSize", "pageToken", "projectIds"})
# Cloud Logging's documented limit on a filter.
MAX_FILTER_CHARS = 20_000
MAX_RESOURCE_NAMES = 100
MAX_TOKEN_CHARS = 4096
INT32_MAX = 2**31 - 1
ORDERS = {"": False, "timestamp asc": False, "timestamp desc": True}


@dataclass(frozen=True)
class EntriesRequest:
    filter: str
    projects: frozenset[str]
    descending: bool
    page_size: int
    page_token: str


def _bad(field: str, what: str) -> InvalidArgument:
    message = f"Invalid value at '{field}': {what}"
    return InvalidArgument(message, (FieldViolation(field, message),))


def _string(body: dict[str, Any], field: str, limit: int) -> str:
    value = body.get(field, "")
    if not isinstance(value, str):
        raise _bad(field, "expected a string.")
    if len(value) > limit:
        raise _bad(field, f"longer than {limit} characters.")
    return value


def _strings(body: dict[str, Any], field: str) -> list[str]:
    value = body.get(field, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(field, "expected a list of strings.")
    if len(value) > MAX_RESOURCE_NAMES:
        raise _bad(field, f"at most {MAX_RESOURCE_NAMES} entries.")
    return value


def _page_size(body: dict[str, Any]) -> int:
    value = body.get("pageSize", 0)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT32_MAX:
        raise _bad("pageSize", "expected a non-negative int32.")
    return value


def parse_entries_request(body: dict[str, Any]) -> EntriesRequest:
    unknown = set(body) - FIELDS
    if unknown:
        raise InvalidArgument(f'Invalid JSON payload received. Unknown name "{sorted(unknown)[0]}".')
    projects: set[str] = set()
    for name in _strings(body, "resourceNames"):
        project = name.removeprefix("projects/")
        if not name.startswith("projects/") or not project or "/" in project:
            raise _bad("resourceNames", f'"{name[:200]}" is not projects/PROJECT_ID.')
        projects.add(project)
    for project in _strings(body, "projectIds"):
        if not project or "/" in project:
            raise _bad("projectIds", f'"{project[:200]}" is not a project id.')
        projects.add(project)
    order = _string(body, "orderBy", 64).strip().lower()
    if order not in ORDERS:
        raise _bad("orderBy", 'expected "timestamp asc" or "timestamp desc".')
    return EntriesRequest(
        filter=_string(body, "filter", MAX_FILTER_CHARS),
        projects=frozenset(projects),
        descending=ORDERS[order],
        page_size=_page_size(body),
        page_token=_string(body, "pageToken", MAX_TOKEN_CHARS),
    )
