"""A small HTTP/1.1 load generator on raw asyncio sockets (B3).

N keep-alive connections each send GET, read the whole answer and send the next, for a
fixed time. Raw sockets keep the client's own cost per request far below an HTTP
library's, which matters when client and server share two cores.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.stats import percentile


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_s: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies_s, 50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_s, 99) * 1000


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one whole response; return its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length is None:
        raise RuntimeError(f"response without content-length: {lines[0]}")
    await reader.readexactly(length)
    return status


async def _connection(
    host: str, port: int, request: bytes, warm_until: float, stop_at: float, out: list[float]
) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    errors = 0
    try:
        while True:
            sent = time.perf_counter()
            if sent >= stop_at:
                return errors
            writer.write(request)
            status = await _read_response(reader)
            if sent >= warm_until:
                out.append(time.perf_counter() - sent)
                errors += status != 200
    finally:
        writer.close()


async def _load(url: str, connections: int, warmup_s: float, duration_s: float) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: */*\r\n\r\n".encode()
    start = time.perf_counter()
    warm_until, stop_at = start + warmup_s, start + warmup_s + duration_s
    latencies: list[float] = []
    errors = await asyncio.gather(
        *(_connection(host, port, request, warm_until, stop_at, latencies) for _ in range(connections))
    )
    # Requests still in flight at stop_at finish after it: count the time they really took.
    seconds = max(time.perf_counter(), stop_at) - warm_until
    return LoadResult(len(latencies), sum(errors), seconds, latencies)


def run_load(url: str, connections: int, duration_s: float, warmup_s: float = 0.0) -> LoadResult:
    """GET `url` over `connections` keep-alive connections for `duration_s` after a warm-up."""
    return asyncio.run(_load(url, connections, warmup_s, duration_s))
