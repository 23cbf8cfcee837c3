"""What every REST handler shares: Google's error envelope, query checks, path parsing."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from customjobs.errors import ApiError, FieldViolation, Internal, InvalidArgument
from customjobs.wire.status import error_body

log = logging.getLogger(__name__)

# System parameters any Google API accepts on any method.
_SYSTEM_PARAMS = frozenset(
    {"$alt", "alt", "$prettyPrint", "prettyPrint", "$fields", "fields", "key", "quotaUser", "$callback"}
)

T = TypeVar("T")
Handler = Callable[[Request], Awaitable[Response]]


# The query parameters every Vertex list method takes over REST.
LIST_PARAMS = ("filter", "pageSize", "page_size", "pageToken", "page_token", "readMask", "read_mask")


def json_response(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def error_response(error: ApiError) -> JSONResponse:
    status, body = error_body(error)
    return json_response(body, status)


def guarded(handler: Handler) -> Handler:
    """Turn domain errors into Google's envelope; never send a traceback."""

    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as exc:
            return error_response(exc)
        except Exception:
            log.exception("%s %s failed", request.method, request.url.path)
            return error_response(Internal("Internal error encountered."))

    return wrapper


def parent_path(request: Request) -> str:
    """projects/P/locations/L from a route's {project} and {location}."""
    return f"projects/{request.path_params['project']}/locations/{request.path_params['location']}"


def check_params(request: Request, allowed: Iterable[str] = ()) -> None:
    known = _SYSTEM_PARAMS.union(allowed)
    for name in request.query_params:
        if name not in known:
            message = (
                f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query parameter. '
                f"Field '{name}' could not be found in request message."
            )
            raise InvalidArgument(message, (FieldViolation(name, message),))


def query(request: Request, *names_: str) -> str:
    """The first of several spellings (camelCase, snake_case) the client used."""
    for name in names_:
        value = request.query_params.get(name)
        if value is not None:
            return value
    return ""


def int_query(request: Request, *names_: str) -> int:
    text = query(request, *names_)
    if not text:
        return 0
    try:
        return int(text)
    except ValueError as exc:
        message = f"Invalid value at '{names_[-1]}' (TYPE_INT32), \"{text}\""
        raise InvalidArgument(message, (FieldViolation(names_[-1], message),)) from exc


async def call(fn: Callable[..., T], *args: Any) -> T:
    """Run blocking service code off the event loop."""
    return await run_in_threadpool(fn, *args)


async def read(inline: bool, fn: Callable[..., T], *args: Any) -> T:
    """A read of one resource by name: on the event loop where the store reads a local file
    that never makes a reader wait (`Store.reads_are_local`: the hop to a worker thread and
    back costs several times the read), else off it like `call`."""
    if inline:
        return fn(*args)
    return await call(fn, *args)
