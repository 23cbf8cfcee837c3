"""Request body limits: Google's front end refuses a body over its limit before any handler.

Pure ASGI middleware: a declared Content-Length over the limit is answered at once; a
body sent without one (chunked) is counted as the handler reads it, and the read that
crosses the limit raises InvalidArgument, which the handler's guard sends as Google's
400. The Storage API's paths are left alone: uploads are spooled to disk, not held.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from customjobs.api.rest.auth import STORAGE_PREFIXES
from customjobs.api.rest.common import error_response
from customjobs.errors import InvalidArgument


def _body_headers(scope: Scope) -> tuple[str | None, bool]:
    """The declared Content-Length (its first value, as Starlette's Headers gives) and whether
    a Transfer-Encoding is sent: one pass over the raw headers, which ASGI gives lower-cased."""
    declared: str | None = None
    chunked = False
    for key, value in scope["headers"]:
        if key == b"content-length" and declared is None:
            declared = value.decode("latin-1")
        elif key == b"transfer-encoding":
            chunked = True
    return declared, chunked


def too_large(limit_bytes: int) -> InvalidArgument:
    return InvalidArgument(f"Request payload size exceeds the limit: {limit_bytes} bytes.")


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(STORAGE_PREFIXES):
            await self.app(scope, receive, send)
            return
        declared, chunked = _body_headers(scope)
        if declared is None and not chunked:
            # HTTP/1.1 (RFC 9112 6.3): no Content-Length and no Transfer-Encoding is an empty
            # body, so there is nothing to count; most requests (gets, lists) are such.
            await self.app(scope, receive, send)
            return
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            error = (
                too_large(self.max_bytes)
                if declared.isdigit()
                else InvalidArgument("Invalid Content-Length.")
            )
            await error_response(error)(scope, receive, send)
            return
        seen = 0

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise too_large(self.max_bytes)
            return message

        await self.app(scope, counting, send)
