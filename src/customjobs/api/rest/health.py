"""/healthz (the process answers) and /readyz (it can do its job: database, schema, not draining).

A load balancer routes by /readyz: a server whose database is unreachable or cannot write
(its disk is full), whose schema is behind the code, or which is draining after SIGTERM
answers 503 and gets no new traffic.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from customjobs.api.rest.common import call, json_response
from customjobs.runtime import Runtime
from customjobs.store.outage import health_of
from customjobs.store.sql.revisions import current_revision, head_revision

# How long after a write failed for want of space /readyz still says so. Writes (the lease
# renewer's every few seconds) end the outage sooner when there is room again.
UNWRITABLE_WINDOW_S = 10.0


async def healthz(_: Request) -> Response:
    return json_response({"status": "ok"})


def readiness(rt: Runtime) -> tuple[bool, dict[str, Any]]:
    body: dict[str, Any] = {"server": rt.lease.holder, "schedulerLease": rt.lease.held()}
    if rt.draining:
        return False, {**body, "status": "draining"}
    try:
        current = current_revision(rt.store.engine)
    except Exception as exc:
        return False, {**body, "status": "database unreachable", "detail": str(exc).splitlines()[0]}
    # Reads work on a full disk, so the revision check above passes: recent writes tell.
    fault = health_of(rt.store.engine).failing(UNWRITABLE_WINDOW_S)
    if fault is not None and fault.unwritable:
        return False, {**body, "status": "database cannot write", "detail": fault.detail}
    head = head_revision()
    body["schemaRevision"] = current
    if current != head:
        detail = f"the database is at migration {current}, the server needs {head}"
        detail += ": run `customjobs db upgrade`"
        return False, {**body, "status": "schema not at head", "detail": detail}
    return True, {**body, "status": "ready"}


class HealthHandlers:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def readyz(self, _: Request) -> Response:
        ready, body = await call(readiness, self.rt)
        return json_response(body, 200 if ready else 503)
