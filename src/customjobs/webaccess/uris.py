"""A job's webAccessUris: where this server serves each replica's shell and the primary's dashboard.

Vertex fills `webAccessUris` while a job with `enableWebAccess` runs, one entry per
replica keyed `workerpool{i}-{r}`, and the scheduler clears it when the job ends. Ours
are URLs of this server (Vertex's are bare hosts of its own domain); `enableDashboardAccess`
adds `workerpool0-0:dashboard`, the primary replica's dashboard proxied by this server.
"""

from __future__ import annotations

from customjobs.domain.spec import LaunchSpec, replica_name

SHELL_PATH = "/customjobs/shell"
DASHBOARD_PATH = "/customjobs/dashboard"
DASHBOARD_SUFFIX = ":dashboard"


def shell_uri(server_url: str, job_id: int, replica: str) -> str:
    return f"{server_url}{SHELL_PATH}/{job_id}/{replica}"


def dashboard_uri(server_url: str, job_id: int) -> str:
    return f"{server_url}{DASHBOARD_PATH}/{job_id}/"


def dashboard_key(spec: LaunchSpec) -> str:
    return replica_name(spec.pools[0].index, 0) + DASHBOARD_SUFFIX


def web_access_uris(server_url: str, job_id: int, spec: LaunchSpec) -> dict[str, str]:
    """The map to publish while the job runs; empty when it asked for neither kind of access."""
    uris: dict[str, str] = {}
    if spec.enable_web_access:
        for pool in spec.pools:
            for name in pool.replica_names():
                uris[name] = shell_uri(server_url, job_id, name)
    if spec.enable_dashboard_access and spec.pools:
        uris[dashboard_key(spec)] = dashboard_uri(server_url, job_id)
    return uris
