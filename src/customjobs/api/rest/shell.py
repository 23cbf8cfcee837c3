"""Web access shells: the terminal page at a webAccessUri, and its WebSocket to a PTY.

GET  /customjobs/shell/{job_id}/{replica}      the page (xterm.js), from the console's static files
WS   /customjobs/shell/{job_id}/{replica}/ws   the terminal: binary frames are the terminal's
     bytes both ways; a text frame from the page is a JSON control message,
     {"resize": [cols, rows]}; a text frame from the server is {"error": "..."} before it closes.

A shell is opened only into a replica listed in the job's webAccessUris (so: a job with
enableWebAccess, while it runs), from this machine (local_only.py). Closing the page
ends the shell and everything it started, never the replica.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.websockets import WebSocket

from customjobs import names
from customjobs.api.rest.auth import refused_job
from customjobs.api.rest.common import call, error_response
from customjobs.api.rest.local_only import refusal
from customjobs.console import STATIC_DIR
from customjobs.errors import ApiError
from customjobs.execution.backends.base import ShellUnavailable
from customjobs.runtime import Runtime
from customjobs.security.permissions import SHELL_OPEN
from customjobs.webaccess.pty import PtyShell

log = logging.getLogger(__name__)

_REPLICA = re.compile(r"^workerpool[0-3]-\d+$")
# Chunks of output queued for a slow browser before the shell's output is paused.
OUTPUT_QUEUE_CHUNKS = 64
WRITE_RETRY_S = 0.01
DEFAULT_COLS, DEFAULT_ROWS = 80, 24
# WebSocket close codes (4000-4999 are the application's own).
CLOSE_POLICY = 1008
CLOSE_UNAVAILABLE = 4404


class ShellHandlers:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def page(self, request: Request) -> Response:
        problem = refusal(request)
        if problem:
            return PlainTextResponse(problem, status_code=403)
        denied = await refused_job(request, SHELL_OPEN, request.path_params["job_id"], self.rt.store.get_job)
        if denied is not None:  # with authentication on: a role in the job's project
            return error_response(denied)
        try:
            job_id = names.parse_id(request.path_params["job_id"])
        except ApiError:
            return PlainTextResponse("No such job.", status_code=404)
        if await call(self.rt.store.get_job, job_id) is None:
            return PlainTextResponse(f"There is no job {job_id}.", status_code=404)
        return FileResponse(STATIC_DIR / "terminal.html", headers={"Cache-Control": "no-cache"})

    async def socket(self, ws: WebSocket) -> None:
        problem = refusal(ws)
        denied = await refused_job(ws, SHELL_OPEN, ws.path_params["job_id"], self.rt.store.get_job)
        if problem or denied:
            log.warning("shell refused to %s: %s", ws.client, problem or (denied and denied.message))
            await ws.close(code=CLOSE_POLICY)  # before accept: the handshake is answered 403
            return
        await ws.accept()
        try:
            shell = await self._open(ws)
        except ShellUnavailable as exc:
            await ws.send_text(json.dumps({"error": str(exc)}))
            await ws.close(code=CLOSE_UNAVAILABLE)
            return
        try:
            await _bridge(ws, shell)
        finally:
            await call(shell.close)
            log.info("shell of job %s %s closed", ws.path_params["job_id"], ws.path_params["replica"])

    async def _open(self, ws: WebSocket) -> PtyShell:
        replica = ws.path_params["replica"]
        try:
            job_id = names.parse_id(ws.path_params["job_id"])
        except ApiError as exc:
            raise ShellUnavailable(exc.message) from exc
        job = await call(self.rt.store.get_job, job_id)
        if job is None:
            raise ShellUnavailable(f"There is no job {job_id}.")
        if not _REPLICA.match(replica) or replica not in job.web_access_uris or job.handle is None:
            raise ShellUnavailable(
                f"Job {job_id} offers no shell into {replica}: web access needs a running job "
                "created with jobSpec.enableWebAccess, and one of its replicas."
            )
        command = await call(self.rt.scheduler.backend.shell_command, job.handle, replica)
        cols = _int_param(ws, "cols", DEFAULT_COLS)
        rows = _int_param(ws, "rows", DEFAULT_ROWS)
        shell = await call(PtyShell.start, command, cols, rows)
        log.info("shell of job %s %s opened (pid %s)", job_id, replica, shell.proc.pid)
        return shell


def _int_param(ws: WebSocket, name: str, default: int) -> int:
    text = ws.query_params.get(name, "")
    return int(text) if text.isdigit() else default


async def _bridge(ws: WebSocket, shell: PtyShell) -> None:
    """Copy both ways until the page goes away or the shell ends."""
    loop = asyncio.get_running_loop()
    output: asyncio.Queue[bytes] = asyncio.Queue(OUTPUT_QUEUE_CHUNKS)
    paused = False

    def readable() -> None:
        nonlocal paused
        data = shell.read()
        if data is None:
            return
        # Never full here: the reader is removed as soon as the queue fills, until it drains.
        output.put_nowait(data)
        if not data or output.full():
            loop.remove_reader(shell.fd)
            paused = bool(data)

    async def to_page() -> None:
        nonlocal paused
        while True:
            data = await output.get()
            if not data:  # every process let go of the terminal: the shell has exited
                await ws.close()
                return
            await ws.send_bytes(data)
            if paused:
                paused = False
                loop.add_reader(shell.fd, readable)

    async def from_page() -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes"):
                await _write_all(shell, message["bytes"])
            elif message.get("text"):
                _control(shell, message["text"])

    loop.add_reader(shell.fd, readable)
    tasks = [asyncio.ensure_future(to_page()), asyncio.ensure_future(from_page())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        loop.remove_reader(shell.fd)
        for task in tasks:
            task.cancel()
        # A page that went away makes sends fail: that is how a bridge ends, not an error.
        await asyncio.gather(*tasks, return_exceptions=True)


async def _write_all(shell: PtyShell, data: bytes) -> None:
    while data:
        written = shell.write(data)
        data = data[written:]
        if data:
            await asyncio.sleep(WRITE_RETRY_S)  # the terminal's input buffer is full


def _control(shell: PtyShell, text: str) -> None:
    try:
        message = json.loads(text)
        cols, rows = message["resize"]
        shell.resize(int(cols), int(rows))
    except (ValueError, KeyError, TypeError, RecursionError):
        log.debug("ignored a shell control message: %.100s", text)
