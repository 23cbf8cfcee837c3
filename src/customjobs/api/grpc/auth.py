"""Authentication at the gRPC edge: the `authorization` metadata, as Google's clients send it.

A server interceptor wraps every unary method: in the worker thread that serves the call
it authenticates the metadata (Vertex's UNAUTHENTICATED when that fails) and runs the
handler as that principal, so VertexApi's `AccessControl.require` sees the caller exactly
as it does for REST. The check itself lives in security/, not here.
"""

from __future__ import annotations

from typing import Any

import grpc
from grpc_status import rpc_status

from customjobs.api.grpc.errors import status_message
from customjobs.errors import Unauthenticated
from customjobs.security.access import AccessControl
from customjobs.security.principal import acting_as

AUTHORIZATION_KEY = "authorization"


def credential(metadata: Any) -> str | None:
    for key, value in metadata or ():
        if key.lower() == AUTHORIZATION_KEY:
            return value if isinstance(value, str) else value.decode("latin-1")
    return None


class Authenticate(grpc.ServerInterceptor):  # type: ignore[misc]
    def __init__(self, access: AccessControl) -> None:
        self.access = access

    def intercept_service(self, continuation: Any, details: Any) -> Any:
        handler = continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary
        given = credential(details.invocation_metadata)
        access = self.access

        def authenticated(request: Any, context: Any) -> Any:
            try:
                principal = access.authenticate(given)
            except Unauthenticated as exc:
                context.abort_with_status(rpc_status.to_status(status_message(exc)))
            with acting_as(principal):
                return inner(request, context)

        return grpc.unary_unary_rpc_method_handler(
            authenticated,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
