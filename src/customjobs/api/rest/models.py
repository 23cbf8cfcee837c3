"""REST handlers for projects.locations.models (ModelService): JSON in, VertexApi, JSON out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from customjobs.api.rest.common import (
    LIST_PARAMS,
    call,
    check_params,
    guarded,
    int_query,
    json_response,
    parent_path,
    query,
)
from customjobs.api.vertex import VertexApi
from customjobs.resources.custom_jobs.codec import to_dict
from customjobs.resources.models.codec import parse_upload_request

# ListModels and ListModelVersions also take orderBy (pages here are newest first, whatever it says).
_LIST_PARAMS = (*LIST_PARAMS, "orderBy", "order_by")


class ModelHandlers:
    def __init__(self, api: VertexApi) -> None:
        self.api = api

    def _name(self, request: Request) -> str:
        return f"{parent_path(request)}/models/{request.path_params['model']}"

    async def upload(self, request: Request) -> Response:
        check_params(request)
        version = request.path_params["version"]
        message = parse_upload_request(await request.body(), version)
        return json_response(
            to_dict(await call(self.api.upload_model, version, parent_path(request), message))
        )

    async def get(self, request: Request) -> Response:
        check_params(request)
        model = await call(self.api.get_model, request.path_params["version"], self._name(request))
        return json_response(to_dict(model))

    async def list_(self, request: Request) -> Response:
        check_params(request, _LIST_PARAMS)
        response = await call(
            self.api.list_models,
            request.path_params["version"],
            parent_path(request),
            query(request, "filter"),
            int_query(request, "pageSize", "page_size"),
            query(request, "pageToken", "page_token"),
        )
        return json_response(to_dict(response))

    async def list_versions(self, request: Request) -> Response:
        check_params(request, _LIST_PARAMS)
        response = await call(
            self.api.list_model_versions,
            request.path_params["version"],
            self._name(request),
            query(request, "filter"),
            int_query(request, "pageSize", "page_size"),
            query(request, "pageToken", "page_token"),
        )
        return json_response(to_dict(response))

    async def delete(self, request: Request) -> Response:
        check_params(request)
        op = await call(self.api.delete_model, request.path_params["version"], self._name(request))
        return json_response(to_dict(op))

    async def delete_version(self, request: Request) -> Response:
        check_params(request)
        op = await call(self.api.delete_model_version, request.path_params["version"], self._name(request))
        return json_response(to_dict(op))

    def routes(self, location: str) -> list[BaseRoute]:
        many = f"{location}/models"
        one = many + "/{model:rid}"
        return [
            Route(many + ":upload", guarded(self.upload), methods=["POST"]),
            Route(many, guarded(self.list_), methods=["GET"]),
            Route(one + ":listVersions", guarded(self.list_versions), methods=["GET"]),
            Route(one + ":deleteVersion", guarded(self.delete_version), methods=["DELETE"]),
            Route(one, guarded(self.get), methods=["GET"]),
            Route(one, guarded(self.delete), methods=["DELETE"]),
        ]
