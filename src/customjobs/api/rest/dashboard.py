"""enableDashboardAccess: /customjobs/dashboard/{job_id}/... proxied to the primary replica.

The primary replica serves its dashboard on AIP_HTTP_HANDLER_PORT (a port the backend chose
at launch: on this machine's loopback, or free on the primary's Ray node, where the app
must listen on the node's address); this proxies HTTP to it, streaming both ways, for as
long as the job lists the dashboard in its webAccessUris. Redirects to an absolute path are
kept under the prefix, and the prefix is passed on as X-Forwarded-Prefix for apps that can
use it. Served to this machine only, as shells are (local_only.py).
"""

from __future__ import annotations

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse

from customjobs import names
from customjobs.api.rest.auth import refused_job
from customjobs.api.rest.common import call, error_response
from customjobs.api.rest.local_only import refusal
from customjobs.errors import ApiError
from customjobs.execution.backends.base import dashboard_host, dashboard_port
from customjobs.runtime import Runtime
from customjobs.security.permissions import SHELL_OPEN
from customjobs.webaccess.uris import DASHBOARD_PATH, DASHBOARD_SUFFIX

# A dashboard may stream (event streams, long polls): no read timeout, a bounded connect.
CONNECT_TIMEOUT_S = 5.0
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


_CREDENTIALS = frozenset({"authorization", "cookie"})


def _forwarded(headers: httpx.Headers | dict[str, str], drop: frozenset[str] = _HOP_BY_HOP) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in drop}


class DashboardProxy:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def redirect(self, request: Request) -> Response:
        return RedirectResponse(f"{DASHBOARD_PATH}/{request.path_params['job_id']}/")

    async def proxy(self, request: Request) -> Response:
        problem = refusal(request)
        if problem:
            return PlainTextResponse(problem, status_code=403)
        denied = await refused_job(request, SHELL_OPEN, request.path_params["job_id"], self.rt.store.get_job)
        if denied is not None:  # with authentication on: a role in the job's project
            return error_response(denied)
        where = await self._where(request.path_params["job_id"])
        if where is None:
            return PlainTextResponse(
                "This job has no dashboard now: it needs jobSpec.enableDashboardAccess, and to be running.",
                status_code=404,
            )
        prefix = f"{DASHBOARD_PATH}/{request.path_params['job_id']}"
        host, port = where
        target = f"http://{host}:{port}/{request.path_params['path']}"
        url = httpx.URL(target, query=request.url.query.encode())
        # The caller's credentials are this server's business, never the job's.
        headers = {
            **_forwarded(dict(request.headers), _HOP_BY_HOP | _CREDENTIALS),
            "X-Forwarded-Prefix": prefix,
        }
        client = httpx.AsyncClient(timeout=httpx.Timeout(None, connect=CONNECT_TIMEOUT_S))
        upstream = client.build_request(request.method, url, headers=headers, content=request.stream())
        try:
            response = await client.send(upstream, stream=True)
        except httpx.HTTPError as exc:
            await client.aclose()
            return PlainTextResponse(
                f"The dashboard (port {port} of the primary replica, on {host}) does not answer: {exc}",
                status_code=502,
            )
        out_headers = _forwarded(response.headers)
        location = out_headers.get("location", "")
        if location.startswith("/") and not location.startswith("//"):
            out_headers["location"] = prefix + location

        async def close() -> None:
            await response.aclose()
            await client.aclose()

        return StreamingResponse(
            response.aiter_raw(),
            status_code=response.status_code,
            headers=out_headers,
            background=BackgroundTask(close),
        )

    async def _where(self, job_text: str) -> tuple[str, int] | None:
        """The primary's dashboard as (host, port), while the job lists it."""
        try:
            job_id = names.parse_id(job_text)
        except ApiError:
            return None
        job = await call(self.rt.store.get_job, job_id)
        if job is None or job.handle is None:
            return None
        if not any(key.endswith(DASHBOARD_SUFFIX) for key in job.web_access_uris):
            return None
        port = dashboard_port(job.handle)
        return None if port is None else (dashboard_host(job.handle), port)
