"""GET /customjobs/v1/scopes: the projects and locations that hold jobs, for the console's picker.

Our own endpoint: Vertex has no call that lists projects. It needs the credential that
listing jobs needs (the middleware answers 401 without one), and answers only the scopes
of projects where the caller may list jobs, so a project it has no role in stays unseen.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from customjobs.api.rest.auth import access_of, caller_of
from customjobs.api.rest.common import call, check_params, json_response
from customjobs.runtime import Runtime
from customjobs.security.permissions import CUSTOM_JOBS_LIST
from customjobs.store.base import JobScope
from customjobs.wire.events import rfc3339

# A picker, not a report: the most recently used scopes are the ones worth offering.
MAX_SCOPES = 100


def scopes_body(scopes: list[JobScope]) -> dict[str, Any]:
    return {
        "scopes": [
            {
                "parent": f"projects/{s.project}/locations/{s.location}",
                "project": s.project,
                "location": s.location,
                "jobCount": s.job_count,
                "latestCreateTime": rfc3339(s.latest_create_us),
            }
            for s in scopes
        ]
    }


class ScopeHandlers:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def scopes(self, request: Request) -> Response:
        check_params(request)
        access, who = access_of(request), caller_of(request)
        # Filtered before the cap, so scopes the caller cannot see never crowd out its own.
        visible = [
            scope
            for scope in await call(self.rt.store.job_scopes)
            if access.allows(who, CUSTOM_JOBS_LIST, scope.project)
        ]
        return json_response(scopes_body(visible[:MAX_SCOPES]))
