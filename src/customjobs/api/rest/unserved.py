"""Vertex's serving surface (Endpoints, predictions) answered at once with UNIMPLEMENTED.

This server trains and registers models; it does not serve them. A client that goes on
to `Model.deploy()` or `Endpoint.create()` gets a 501 naming the method it called instead
of a bare 404 it might retry, or a hang.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from customjobs.api.rest.common import error_response
from customjobs.errors import Unimplemented

_COLLECTION_METHODS = {"POST": "CreateEndpoint", "GET": "ListEndpoints"}
_RESOURCE_VERBS = {"GET": "Get", "DELETE": "Delete", "PATCH": "Update"}
_PREDICTION = {"predict", "rawPredict", "streamRawPredict", "explain", "serverStreamingPredict"}


def method_of(http_method: str, rest: str) -> str:
    """`EndpointService.DeployModel` for POST .../endpoints/1:deployModel, and so on."""
    target, _, custom = rest.strip("/").partition(":")
    if custom:
        service = "PredictionService" if custom in _PREDICTION else "EndpointService"
        return f"{service}.{custom[:1].upper()}{custom[1:]}"
    if not target:
        return f"EndpointService.{_COLLECTION_METHODS.get(http_method, http_method.title() + 'Endpoints')}"
    return f"EndpointService.{_RESOURCE_VERBS.get(http_method, http_method.title())}Endpoint"


async def endpoints(request: Request) -> Response:
    method = method_of(request.method, request.path_params.get("rest", ""))
    return error_response(
        Unimplemented(
            f"{method} is not served here: this server trains models and keeps them in its Model "
            "registry (Model.uri holds the artifacts); it does not deploy or serve them."
        )
    )


def unserved_routes(location: str) -> list[BaseRoute]:
    methods = ["GET", "POST", "DELETE", "PATCH"]
    return [
        Route(location + "/endpoints", endpoints, methods=methods),
        Route(location + "/endpoints{rest:path}", endpoints, methods=methods),
    ]
