"""REST handlers for projects.locations.hyperparameterTuningJobs: JSON in, VertexApi, JSON out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from customjobs.api.rest.common import call, check_params, int_query, json_response, parent_path, query
from customjobs.api.vertex import VertexApi
from customjobs.resources.custom_jobs.codec import parse_json_object
from customjobs.resources.tuning import codec

_LIST_PARAMS = ("filter", "pageSize", "page_size", "pageToken", "page_token", "readMask", "read_mask")


def _name(request: Request) -> str:
    return f"{parent_path(request)}/hyperparameterTuningJobs/{request.path_params['job']}"


class TuningHandlers:
    def __init__(self, api: VertexApi) -> None:
        self.api = api

    async def create(self, request: Request) -> Response:
        check_params(request)
        version = request.path_params["version"]
        message = codec.parse_tuning_job(await request.body(), version)
        job = await call(self.api.create_hyperparameter_tuning_job, version, parent_path(request), message)
        return json_response(codec.to_dict(job))

    async def get(self, request: Request) -> Response:
        check_params(request)
        job = await call(
            self.api.get_hyperparameter_tuning_job, request.path_params["version"], _name(request)
        )
        return json_response(codec.to_dict(job))

    async def list(self, request: Request) -> Response:
        check_params(request, _LIST_PARAMS)
        response = await call(
            self.api.list_hyperparameter_tuning_jobs,
            request.path_params["version"],
            parent_path(request),
            query(request, "filter"),
            int_query(request, "pageSize", "page_size"),
            query(request, "pageToken", "page_token"),
        )
        return json_response(codec.to_dict(response))

    async def cancel(self, request: Request) -> Response:
        check_params(request)
        parse_json_object(await request.body())
        await call(self.api.cancel_hyperparameter_tuning_job, _name(request))
        return json_response({})

    async def delete(self, request: Request) -> Response:
        check_params(request)
        op = await call(
            self.api.delete_hyperparameter_tuning_job, request.path_params["version"], _name(request)
        )
        return json_response(codec.to_dict(op))
