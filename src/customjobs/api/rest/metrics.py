"""/metrics for Prometheus, and the middleware that times every REST request.

Requests are labelled by route template (`/{version:ver}/projects/{project:rid}/...`), never
by raw path: job ids in a label would grow the series without bound.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from customjobs.api.rest.common import call
from customjobs.telemetry.metrics import Metrics

UNMATCHED_ROUTE = "unmatched"


class RequestMetrics:
    """Pure ASGI middleware: sees the route the router matched, and the status sent."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        # The histogram's child per (method, route, status), looked up once: prometheus'
        # labels() validates and locks on every call, on the path of every request.
        self._children: dict[tuple[str, str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE
            key = (scope["method"], route, status)
            child = self._children.get(key)
            if child is None:
                child = self._children[key] = self.metrics.request_s.labels(key[0], route, str(status))
            child.observe(time.perf_counter() - started)


class MetricsHandler:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def metrics_page(self, _: Request) -> Response:
        body, content_type = await call(self.metrics.render)
        return Response(body, media_type=content_type)
