"""REST handlers for google.longrunning.Operations, location-level and under customJobs.

Served under /v1, /v1beta1 and /ui: the Python REST client polls /ui/{name}.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from customjobs import names
from customjobs.api.rest.common import (
    call,
    check_params,
    int_query,
    json_response,
    op_id_of,
    parent_of,
    query,
)
from customjobs.errors import InvalidArgument
from customjobs.runtime import Runtime
from customjobs.wire import paging
from customjobs.wire.operations import list_operations_dict, operation_dict


def _job_id(request: Request) -> int | None:
    job = request.path_params.get("job")
    return None if job is None else names.parse_id(job)


class OperationHandlers:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def get(self, request: Request) -> Response:
        check_params(request)
        op = await call(self.rt.operations.get, parent_of(request), op_id_of(request), _job_id(request))
        return json_response(operation_dict(op))

    async def wait(self, request: Request) -> Response:
        # Every operation this server starts is done when it is returned, so waiting is a get.
        check_params(request, ("timeout",))
        op = await call(self.rt.operations.get, parent_of(request), op_id_of(request), _job_id(request))
        return json_response(operation_dict(op))

    async def cancel(self, request: Request) -> Response:
        check_params(request)
        await call(self.rt.operations.cancel, parent_of(request), op_id_of(request), _job_id(request))
        return json_response({})

    async def delete(self, request: Request) -> Response:
        check_params(request)
        await call(self.rt.operations.delete, parent_of(request), op_id_of(request), _job_id(request))
        return json_response({})

    async def list(self, request: Request) -> Response:
        check_params(
            request, ("filter", "pageSize", "page_size", "pageToken", "page_token", "returnPartialSuccess")
        )
        parent = parent_of(request)
        if query(request, "filter"):
            raise InvalidArgument("Filtering operations is not supported by this server; omit filter.")
        settings = self.rt.settings
        size = paging.page_size(
            int_query(request, "pageSize", "page_size"), settings.default_page_size, settings.max_page_size
        )
        bound_to = paging.binding(str(parent), "operations", query(request, "filter"))
        token = query(request, "pageToken", "page_token")
        after = paging.decode(token, bound_to) if token else None
        ops, cursor = await call(self.rt.operations.list, parent, size, after)
        return json_response(list_operations_dict(ops, paging.encode(cursor, bound_to) if cursor else ""))
