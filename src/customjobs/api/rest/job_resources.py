"""REST handlers for the job resources a controller runs (hyperparameterTuningJobs,
trainingPipelines): the same five methods, JSON in, VertexApi, JSON out.

Each resource differs only in its collection, its body parser and VertexApi's methods,
so one class serves them all and the routes are made the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from google.protobuf.message import Message
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
from customjobs.resources.custom_jobs.codec import parse_json_object, to_dict


@dataclass(frozen=True)
class JobResource:
    collection: str  # "hyperparameterTuningJobs"
    parse: Callable[[bytes, str], Message]  # a create body as the version's message
    create: Callable[[str, str, Message], Message]
    get: Callable[[str, str], Message]
    list_: Callable[[str, str, str, int, str], Message]
    cancel: Callable[[str], None]
    delete: Callable[[str, str], Message]


class JobResourceHandlers:
    def __init__(self, resource: JobResource) -> None:
        self.r = resource

    def _name(self, request: Request) -> str:
        return f"{parent_path(request)}/{self.r.collection}/{request.path_params['job']}"

    async def create(self, request: Request) -> Response:
        check_params(request)
        version = request.path_params["version"]
        message = self.r.parse(await request.body(), version)
        return json_response(to_dict(await call(self.r.create, version, parent_path(request), message)))

    async def get(self, request: Request) -> Response:
        check_params(request)
        return json_response(
            to_dict(await call(self.r.get, request.path_params["version"], self._name(request)))
        )

    async def list_(self, request: Request) -> Response:
        check_params(request, LIST_PARAMS)
        response = await call(
            self.r.list_,
            request.path_params["version"],
            parent_path(request),
            query(request, "filter"),
            int_query(request, "pageSize", "page_size"),
            query(request, "pageToken", "page_token"),
        )
        return json_response(to_dict(response))

    async def cancel(self, request: Request) -> Response:
        check_params(request)
        parse_json_object(await request.body())
        await call(self.r.cancel, self._name(request))
        return json_response({})

    async def delete(self, request: Request) -> Response:
        check_params(request)
        op = await call(self.r.delete, request.path_params["version"], self._name(request))
        return json_response(to_dict(op))

    def routes(self, location: str) -> list[BaseRoute]:
        """`location` is the path up to .../locations/{location}, with the version segment."""
        many = f"{location}/{self.r.collection}"
        one = many + "/{job:rid}"
        return [
            Route(many, guarded(self.create), methods=["POST"]),
            Route(many, guarded(self.list_), methods=["GET"]),
            Route(one + ":cancel", guarded(self.cancel), methods=["POST"]),
            Route(one, guarded(self.get), methods=["GET"]),
            Route(one, guarded(self.delete), methods=["DELETE"]),
        ]
