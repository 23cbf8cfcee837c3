"""REST handlers for google.longrunning.Operations, location-level and under customJobs.

Served under /v1, /v1beta1 and /ui: the Python REST client polls /ui/{name}.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from customjobs.api.rest.common import call, check_params, int_query, json_response, parent_path, query
from customjobs.api.vertex import VertexApi
from customjobs.resources.custom_jobs import codec

_LIST_PARAMS = ("filter", "pageSize", "page_size", "pageToken", "page_token", "returnPartialSuccess")


def _collection(request: Request) -> str:
    """projects/P/locations/L, or projects/P/locations/L/customJobs/J for nested operations."""
    base = parent_path(request)
    job = request.path_params.get("job")
    return base if job is None else f"{base}/customJobs/{job}"


def _name(request: Request) -> str:
    return f"{_collection(request)}/operations/{request.path_params['op']}"


class OperationHandlers:
    def __init__(self, api: VertexApi) -> None:
        self.api = api

    async def get(self, request: Request) -> Response:
        check_params(request)
        return json_response(codec.to_dict(await call(self.api.get_operation, _name(request))))

    async def wait(self, request: Request) -> Response:
        check_params(request, ("timeout",))
        return json_response(codec.to_dict(await call(self.api.wait_operation, _name(request))))

    async def cancel(self, request: Request) -> Response:
        check_params(request)
        await call(self.api.cancel_operation, _name(request))
        return json_response({})

    async def delete(self, request: Request) -> Response:
        check_params(request)
        await call(self.api.delete_operation, _name(request))
        return json_response({})

    async def list(self, request: Request) -> Response:
        check_params(request, _LIST_PARAMS)
        response = await call(
            self.api.list_operations,
            _collection(request),
            query(request, "filter"),
            int_query(request, "pageSize", "page_size"),
            query(request, "pageToken", "page_token"),
        )
        return json_response(codec.to_dict(response))
