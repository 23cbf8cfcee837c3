"""GET /customjobs/v1/{job name}/events: the job's state history, read from the store as it is."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from customjobs import names
from customjobs.api.rest.auth import authorize
from customjobs.api.rest.common import call, check_params, json_response
from customjobs.runtime import Runtime
from customjobs.security.permissions import CUSTOM_JOBS_GET
from customjobs.wire.events import events_body


class EventHandlers:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def events(self, request: Request) -> Response:
        check_params(request)
        parent = names.Parent(request.path_params["project"], request.path_params["location"])
        authorize(request, CUSTOM_JOBS_GET, str(parent))  # before the job is looked up: no leak
        job_id = names.parse_id(request.path_params["job"])
        await call(self.rt.jobs.get, parent, job_id)  # 404 for a job of another project, or none
        return json_response(events_body(await call(self.rt.store.events, job_id)))
