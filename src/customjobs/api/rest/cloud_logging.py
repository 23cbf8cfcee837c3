"""Cloud Logging's entries:list (POST /v2/entries:list) over the replica logs.

gcloud `ai custom-jobs stream-logs` reads a job's logs this way (pointed here with
CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING): its filter names resource.type="ml_job" and
resource.labels.job_id, and pages by (timestamp, insertId). With authentication on, the
caller needs logging.logEntries.list in every project it names, checked before the job is
looked up; a job of another project reads as no entries, as on Cloud Logging.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from customjobs import names
from customjobs.api.rest.auth import caller_of
from customjobs.api.rest.common import call, check_params, json_response
from customjobs.clock import now_us
from customjobs.errors import InvalidArgument
from customjobs.execution.logs.entries import job_entries
from customjobs.resources.custom_jobs import codec
from customjobs.runtime import Runtime
from customjobs.security.permissions import LOG_ENTRIES_LIST, logging_resource
from customjobs.security.principal import Principal
from customjobs.wire.logging_filter import equality_value, parse_logging_filter
from customjobs.wire.logging_request import parse_entries_request

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def _token(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _after(token: str) -> tuple[str, str] | None:
    if not token:
        return None
    try:
        timestamp, insert_id = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(timestamp), str(insert_id)
    except (ValueError, TypeError, RecursionError) as exc:
        raise InvalidArgument(f'Invalid page token "{token}".') from exc


def _beyond(key: tuple[str, str], after: tuple[str, str], descending: bool) -> bool:
    return key < after if descending else key > after


class CloudLoggingHandlers:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def list_entries(self, request: Request) -> Response:
        check_params(request)
        body = codec.parse_json_object(await request.body())
        return json_response(await call(self._list, body, caller_of(request)))

    def _list(self, body: dict[str, Any], principal: Principal) -> dict[str, Any]:
        req = parse_entries_request(body)
        projects = req.projects
        if self.rt.access.enabled and not projects:
            raise InvalidArgument('resourceNames is required: name the job\'s project, e.g. ["projects/P"].')
        for project in sorted(projects):
            self.rt.access.require_permission(LOG_ENTRIES_LIST, project, logging_resource(project), principal)
        predicate = parse_logging_filter(req.filter)
        job_id_text = equality_value(req.filter, "resource.labels.job_id")
        if job_id_text is None:
            raise InvalidArgument('This server reads job logs only: filter on resource.labels.job_id="ID".')
        job = self.rt.store.get_job(names.parse_id(job_id_text))
        if job is None or (projects and job.project not in projects):
            return {}
        source = self.rt.encryption.log_source(job)
        descending = req.descending
        size = min(req.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        after = _after(req.page_token)
        fallback = job.end_us or now_us()
        entries = [e.to_json() for e in job_entries(self.rt.layout, job.id, job.project, fallback, source)]
        entries = [e for e in entries if predicate(e)]
        entries.sort(key=lambda e: (e["timestamp"], e["insertId"]), reverse=descending)
        if after is not None:
            entries = [e for e in entries if _beyond((e["timestamp"], e["insertId"]), after, descending)]
        page = entries[:size]
        result: dict[str, Any] = {"entries": page} if page else {}
        if len(entries) > size:
            result["nextPageToken"] = _token((page[-1]["timestamp"], page[-1]["insertId"]))
        return result
