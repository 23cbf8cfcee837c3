"""REST handlers for projects.locations.customJobs: decode, call the service, encode."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from customjobs.api.rest.common import (
    call,
    check_params,
    int_query,
    job_id_of,
    json_response,
    parent_of,
    query,
)
from customjobs.runtime import Runtime
from customjobs.wire import codec, paging
from customjobs.wire.filters import parse_filter
from customjobs.wire.operations import operation_dict


class JobHandlers:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def create(self, request: Request) -> Response:
        check_params(request)
        version = request.path_params["version"]
        parent = parent_of(request)
        body = await request.body()
        new = codec.decode_new_job(body, version, parent.project, parent.location)
        job = await call(self.rt.jobs.create, new)
        return json_response(codec.job_dict(job, version))

    async def get(self, request: Request) -> Response:
        check_params(request)
        version = request.path_params["version"]
        job = await call(self.rt.jobs.get, parent_of(request), job_id_of(request))
        return json_response(codec.job_dict(job, version))

    async def list(self, request: Request) -> Response:
        check_params(
            request, ("filter", "pageSize", "page_size", "pageToken", "page_token", "readMask", "read_mask")
        )
        version = request.path_params["version"]
        parent = parent_of(request)
        filter_text = query(request, "filter")
        where = parse_filter(filter_text)
        mask = codec.parse_read_mask(query(request, "readMask", "read_mask"), version)
        settings = self.rt.settings
        size = paging.page_size(
            int_query(request, "pageSize", "page_size"), settings.default_page_size, settings.max_page_size
        )
        bound_to = paging.binding(str(parent), filter_text)
        token = query(request, "pageToken", "page_token")
        after = paging.decode(token, bound_to) if token else None
        jobs, cursor = await call(self.rt.jobs.list, parent, where, size, after)
        next_token = paging.encode(cursor, bound_to) if cursor else ""
        return json_response(codec.list_dict(jobs, version, next_token, mask))

    async def cancel(self, request: Request) -> Response:
        check_params(request)
        codec.parse_json_object(await request.body())
        await call(self.rt.jobs.cancel, parent_of(request), job_id_of(request))
        return json_response({})

    async def delete(self, request: Request) -> Response:
        check_params(request)
        version = request.path_params["version"]
        op = await call(self.rt.jobs.delete, parent_of(request), job_id_of(request), version)
        return json_response(operation_dict(op))
