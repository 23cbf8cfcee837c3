"""The gRPC server that runs beside uvicorn: same VertexApi, same runtime, same scheduler.

`customjobs serve --grpc-port` starts it after the runtime is built and stops it when
uvicorn returns; handlers are called on a thread pool because VertexApi blocks.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc

from customjobs.api.grpc.auth import Authenticate
from customjobs.api.grpc.services import all_services
from customjobs.api.grpc.tls import TlsFiles
from customjobs.api.vertex import VertexApi

log = logging.getLogger(__name__)

MAX_WORKERS = 16
STOP_GRACE_S = 5.0
# grpcio sets SO_REUSEPORT by default, which would let two servers share a port silently.
_OPTIONS = (("grpc.so_reuseport", 0),)


def address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def start(api: VertexApi, host: str, port: int, tls: TlsFiles | None = None) -> Any:
    """A started grpc.Server; raises OSError when the port cannot be bound."""
    server = grpc.server(
        ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="grpc"),
        options=_OPTIONS,
        # Every call is authenticated from its `authorization` metadata (a no-op with auth off).
        interceptors=(Authenticate(api.access),),
    )
    server.add_generic_rpc_handlers(all_services(api))
    where = address(host, port)
    try:
        if tls is None:
            bound = server.add_insecure_port(where)
        else:
            bound = server.add_secure_port(where, tls.server_credentials())
    except RuntimeError as exc:
        raise OSError(f"cannot serve gRPC on {where}: {exc}") from exc
    if not bound:
        raise OSError(f"cannot serve gRPC on {where}")
    server.start()
    log.debug("gRPC listening on %s (%s)", where, "TLS" if tls else "plaintext")
    return server


def stop(server: Any, grace_s: float = STOP_GRACE_S) -> None:
    """Refuse new calls, give running ones grace_s to finish, then cancel them."""
    server.stop(grace_s).wait()
