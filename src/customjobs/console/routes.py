"""The console's routes: its page at `/` and its static files under /console/."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from customjobs.console import STATIC_DIR

# Modules are re-validated on every load, so a server upgrade never runs a stale mix of them.
_NO_CACHE = {"Cache-Control": "no-cache"}


class _RevalidatedFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(_NO_CACHE)
        return response


async def index(_: Request) -> Response:
    return FileResponse(STATIC_DIR / "index.html", headers=_NO_CACHE)


def console_routes() -> list[BaseRoute]:
    return [
        Route("/", index, methods=["GET"]),
        Mount("/console", app=_RevalidatedFiles(directory=STATIC_DIR), name="console"),
    ]
