"""Authentication at the REST edge, and `authorize` for handlers outside VertexApi.

`Authenticate` is pure ASGI middleware, just inside the request metrics: it turns the
`Authorization: Bearer` header into a principal before any route or handler runs,
answers Vertex's 401 (Cloud Storage's envelope under the storage paths) when that fails,
and runs the request as that principal (`acting_as`), which `AccessControl.require` reads. Health checks stay
open so a load balancer needs no token, and so is the console's static page.

A WebSocket (the console's shells) cannot carry an Authorization header from a browser,
so for WebSockets only the token may also come as `?access_token=`, as Google APIs accept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, QueryParams
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from customjobs import names
from customjobs.api.rest.common import call
from customjobs.domain.job import Job
from customjobs.errors import ApiError, PermissionDenied, Unauthenticated
from customjobs.security.access import AccessControl, denied_message
from customjobs.security.authn import UNAUTHENTICATED_MESSAGE
from customjobs.security.principal import ANONYMOUS, Principal, acting_as
from customjobs.storage.errors import StorageError
from customjobs.wire import storage as storage_wire
from customjobs.wire.status import error_body

log = logging.getLogger(__name__)

# Health checks, and the console's page and static files (they hold no data; the API calls do).
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/"})
PUBLIC_PREFIXES = ("/console/",)
STORAGE_PREFIXES = ("/storage/", "/upload/storage/", "/download/storage/")
WEBSOCKET_CLOSE_POLICY = 1008


def unauthenticated_response(path: str, error: ApiError) -> JSONResponse:
    """Vertex's 401, or Cloud Storage's under its paths (its clients read only that envelope)."""
    headers = {"WWW-Authenticate": 'Bearer realm="customjobs"'}
    if path.startswith(STORAGE_PREFIXES):
        failure = StorageError(error.message)
        failure.http_status, failure.reason = 401, "required"
        status, body = storage_wire.error_body(failure)
    else:
        status, body = error_body(error)
    return JSONResponse(body, status_code=status, headers=headers)


class Authenticate:
    def __init__(self, app: ASGIApp, access: AccessControl, public_paths: frozenset[str] = PUBLIC_PATHS):
        self.app = app
        self.access = access
        self.public_paths = public_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        try:
            principal = await self._principal(scope)
        except Unauthenticated as exc:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": WEBSOCKET_CLOSE_POLICY})
                return
            await unauthenticated_response(scope["path"], exc)(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["principal"] = principal
        state["access"] = self.access
        with acting_as(principal):
            await self.app(scope, receive, send)

    async def _principal(self, scope: Scope) -> Principal:
        if not self.access.enabled:
            return self.access.authenticate(None)
        credential = Headers(scope=scope).get("authorization")
        if credential is None and scope["type"] == "websocket":
            token = QueryParams(scope.get("query_string", b"")).get("access_token")
            credential = f"Bearer {token}" if token else None
        public = scope["path"] in self.public_paths or scope["path"].startswith(PUBLIC_PREFIXES)
        if public and credential is None:
            return ANONYMOUS
        if self.access.may_block:
            return await run_in_threadpool(self.access.authenticate, credential)
        return self.access.authenticate(credential)


def caller_of(connection: HTTPConnection) -> Principal:
    principal = connection.scope.get("state", {}).get("principal")
    return principal if isinstance(principal, Principal) else ANONYMOUS


def access_of(connection: HTTPConnection) -> AccessControl:
    """The server's access control; one that refuses everything where the middleware did not run."""
    access = connection.scope.get("state", {}).get("access")
    return access if isinstance(access, AccessControl) else AccessControl.closed()


def authorize(request: HTTPConnection, permission: str, resource: str) -> None:
    """Raise Vertex's 401/403 unless the caller holds `permission` on `resource`.

    For REST and WebSocket handlers outside VertexApi, e.g. the console's shells:
    `authorize(request, permissions.SHELL_OPEN, "projects/P/locations/L/customJobs/J")`.
    `resource` is any name under projects/P/locations/L; the check is on that project, so
    it answers the same whether the job exists or not. Without the middleware (tests
    that mount a handler alone) nothing is allowed.
    """
    access_of(request).require_on_name(permission, resource, caller_of(request))


async def refused_job(
    connection: HTTPConnection, permission: str, job_text: str, lookup: Callable[[int], Job | None]
) -> ApiError | None:
    """For routes that name a job by id alone (shells, dashboards): why the caller may not, or None.

    The check is on the job's project, so a job that does not exist is refused exactly like
    one of a project the caller has no role in: the answer says nothing about which it was.
    """
    access = access_of(connection)
    if not access.enabled:
        return None
    who = caller_of(connection)
    if not who.authenticated:
        return Unauthenticated(UNAUTHENTICATED_MESSAGE)
    try:
        job_id = names.parse_id(job_text)
    except ApiError as exc:
        return exc
    job = await call(lookup, job_id)
    if job is not None and access.allows(who, permission, job.project):
        return None
    return PermissionDenied(denied_message(permission, f"//aiplatform.googleapis.com/customJobs/{job_id}"))
