"""Who may open a shell or a dashboard: this machine only, unless authentication is on.

With authentication on, a caller with a role in the job's project (auth.refused_job) may
open one from anywhere; only pages of other sites are still refused. Without it:

A shell is as powerful as cancelling the job and more, so it is served only to a client
on the loopback interface. That alone is not enough in a browser: any web page the user
visits could open a WebSocket to 127.0.0.1, and a DNS name rebound to 127.0.0.1 could
read the answers. So the Host header must name the loopback too, and a browser's Origin
must be this very server.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def _is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _authenticated(conn: HTTPConnection) -> bool:
    """Whether authentication is on and this caller proved who it is (api/rest/auth.py).

    Then the caller's role in the job's project decides (auth.refused_job), from any address;
    a page of another site is still refused below.
    """
    state = conn.scope.get("state", {})
    access, principal = state.get("access"), state.get("principal")
    return bool(getattr(access, "enabled", False) and getattr(principal, "authenticated", False))


def refusal(conn: HTTPConnection) -> str | None:
    """Why this request may not reach a shell or dashboard, or None when it may."""
    if _authenticated(conn):
        origin = conn.headers.get("origin")
        host_header = conn.headers.get("host", "")
        if origin is not None and urlsplit(origin).netloc.lower() != host_header.lower():
            return f"Web access from the page of another site ({origin}) is refused."
        return None
    client = conn.client.host if conn.client else ""
    if not _is_loopback(client):
        return "Web access is served only to clients on this machine (the loopback interface)."
    host_header = conn.headers.get("host", "")
    if not _is_loopback(urlsplit(f"//{host_header}").hostname or ""):
        return f"Web access must be opened through a loopback address, not {host_header!r}."
    origin = conn.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc.lower() != host_header.lower():
        return f"Web access from the page of another site ({origin}) is refused."
    return None
