"""Who is calling: the principal a request authenticated as, carried to the code that checks it.

A transport authenticates at its edge and runs the rest of the request inside
`acting_as(principal)`; VertexApi and the REST-only handlers read it with `caller()`. A
context variable follows the request into Starlette's worker threads (anyio runs them in
a copy of the context) and is set by the gRPC wrapper in the handler's own thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """An identity: a static token's principal, an OIDC subject, or nobody."""

    name: str
    authenticated: bool = True

    def __str__(self) -> str:
        return self.name


ANONYMOUS = Principal("anonymous", authenticated=False)
# The caller when authentication is off (loopback only): every check passes.
LOCAL_USER = Principal("local")

_CALLER: ContextVar[Principal] = ContextVar("customjobs_caller", default=ANONYMOUS)


def caller() -> Principal:
    """The principal of the request being served; ANONYMOUS outside any request."""
    return _CALLER.get()


@contextlib.contextmanager
def acting_as(principal: Principal) -> Iterator[None]:
    token = _CALLER.set(principal)
    try:
        yield
    finally:
        _CALLER.reset(token)
