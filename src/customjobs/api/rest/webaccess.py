"""The routes of web access: shells into replicas and the primary replica's dashboard."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route, WebSocketRoute

from customjobs.api.rest.common import guarded
from customjobs.api.rest.dashboard import DashboardProxy
from customjobs.api.rest.shell import ShellHandlers
from customjobs.runtime import Runtime
from customjobs.webaccess.uris import DASHBOARD_PATH, SHELL_PATH

_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def webaccess_routes(rt: Runtime) -> list[BaseRoute]:
    shells, dashboard = ShellHandlers(rt), DashboardProxy(rt)
    shell = SHELL_PATH + "/{job_id:rid}/{replica:rid}"
    board = DASHBOARD_PATH + "/{job_id:rid}"
    return [
        Route(shell, guarded(shells.page), methods=["GET"]),
        WebSocketRoute(shell + "/ws", shells.socket),
        Route(board, guarded(dashboard.redirect), methods=_ALL_METHODS),
        Route(board + "/{path:path}", guarded(dashboard.proxy), methods=_ALL_METHODS),
    ]
