"""Replica logs over HTTP, outside the Vertex namespace.

GET /customjobs/v1/{job name}/logs?replica=workerpool0-0&follow=true streams from the
first line until the job ends: each pass notes whether the job had ended BEFORE reading,
so the last read after the end catches every line, and no line is sent twice.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from customjobs import names
from customjobs.api.rest.auth import authorize
from customjobs.api.rest.common import call, check_params, query
from customjobs.domain.states import TERMINAL
from customjobs.errors import InvalidArgument
from customjobs.execution.logs.files import ByteSource, LineReader
from customjobs.runtime import Runtime
from customjobs.security.permissions import LOG_ENTRIES_LIST

FOLLOW_POLL_S = 0.1
_REPLICA = re.compile(r"^workerpool[0-3]-\d+$")


class LogHandlers:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def logs(self, request: Request) -> Response:
        check_params(request, ("replica", "follow"))
        parent = names.Parent(request.path_params["project"], request.path_params["location"])
        authorize(request, LOG_ENTRIES_LIST, str(parent))  # before the job is looked up: no leak
        job_id = names.parse_id(request.path_params["job"])
        job = await call(self.rt.jobs.get, parent, job_id)  # 404 before the stream starts
        source = await call(self.rt.encryption.log_source, job)  # a disabled key's error, likewise
        replica = query(request, "replica") or None
        if replica is not None and not _REPLICA.match(replica):
            raise InvalidArgument(f'Invalid replica "{replica}": expected workerpool{{pool}}-{{index}}.')
        follow = query(request, "follow").lower() in ("true", "1", "yes")
        return StreamingResponse(
            self._stream(job_id, replica, follow, source), media_type="text/plain; charset=utf-8"
        )

    async def _stream(
        self, job_id: int, replica: str | None, follow: bool, source: ByteSource
    ) -> AsyncIterator[bytes]:
        readers: dict[str, LineReader] = {}
        while True:
            job = await call(self.rt.store.get_job, job_id)
            ended = job is None or job.state in TERMINAL
            chunks: list[str] = []
            for name, path in self.rt.layout.replica_logs(job_id, replica):
                reader = readers.setdefault(str(path), LineReader(path, source=source))
                prefix = "" if replica else f"[{name}] "
                lines = await call(reader.read_lines, ended)  # sealed logs are decrypted off the loop
                chunks.extend(f"{prefix}{line}\n" for line in lines)
            if chunks:
                yield "".join(chunks).encode()
            if ended or not follow:
                return
            await asyncio.sleep(FOLLOW_POLL_S)
