"""REST handlers for projects.locations.customJobs: JSON in, VertexApi, JSON out."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from customjobs.api.rest.common import (
    LIST_PARAMS,
    call,
    check_params,
    int_query,
    json_response,
    parent_path,
    query,
    read,
)
from customjobs.api.vertex import VertexApi
from customjobs.resources.custom_jobs import codec, queue_status

# (JobHandlers.list shadows the builtin inside the class.)
_JobDicts = list[dict[str, Any]]


def _name(request: Request) -> str:
    return f"{parent_path(request)}/customJobs/{request.path_params['job']}"


class JobHandlers:
    def __init__(self, api: VertexApi) -> None:
        self.api = api
        self.inline_reads = api.rt.store.reads_are_local

    async def create(self, request: Request) -> Response:
        check_params(request)
        version = request.path_params["version"]
        message = codec.parse_custom_job(await request.body(), version)
        data = await call(self.api.create_custom_job_json, version, parent_path(request), message)
        return json_response(data)

    async def get(self, request: Request) -> Response:
        check_params(request)
        version = request.path_params["version"]
        data = await read(self.inline_reads, self.api.get_custom_job_json, version, _name(request))
        await self._queue_status([data])
        return json_response(data)

    async def list(self, request: Request) -> Response:
        check_params(request, LIST_PARAMS)
        data = await call(
            self.api.list_custom_jobs_json,
            request.path_params["version"],
            parent_path(request),
            query(request, "filter"),
            int_query(request, "pageSize", "page_size"),
            query(request, "pageToken", "page_token"),
            codec.read_mask_from_text(query(request, "readMask", "read_mask")),
        )
        await self._queue_status(data.get("customJobs", []))
        return json_response(data)

    async def _queue_status(self, jobs: _JobDicts) -> None:
        """A queued job's reason and position, as the extra member `customjobsQueue`."""
        queued = queue_status.queued_names(jobs)
        if queued:
            queue_status.add_queue_status(jobs, await call(self.api.queue_status, queued))

    async def cancel(self, request: Request) -> Response:
        check_params(request)
        codec.parse_json_object(await request.body())
        await call(self.api.cancel_custom_job, _name(request))
        return json_response({})

    async def delete(self, request: Request) -> Response:
        check_params(request)
        op = await call(self.api.delete_custom_job, request.path_params["version"], _name(request))
        return json_response(codec.to_dict(op))
