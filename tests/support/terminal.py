"""A web-access shell driven over its WebSocket, as the browser's terminal drives it."""

from __future__ import annotations

import json
import re
import time

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

READ_TIMEOUT_S = 15.0
# What a terminal draws around text (colours, bracketed paste): not what the tests read.
_ESCAPES = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\r")


def shell_url(server_url: str, job_id: str, replica: str, cols: int = 80, rows: int = 24) -> str:
    base = server_url.replace("http://", "ws://", 1)
    return f"{base}/customjobs/shell/{job_id}/{replica}/ws?cols={cols}&rows={rows}"


class ShellClient:
    """Bytes in, screen text out; `read_until` waits for text to appear after the last read."""

    def __init__(self, url: str, origin: str | None = None) -> None:
        headers = {"Origin": origin} if origin else None
        self.ws: ClientConnection = connect(url, additional_headers=headers, proxy=None, compression=None)
        self.seen = b""
        self.errors: list[str] = []

    def send(self, data: bytes) -> None:
        self.ws.send(data)

    def resize(self, cols: int, rows: int) -> None:
        self.ws.send(json.dumps({"resize": [cols, rows]}))

    def read_until(self, text: str, timeout_s: float = READ_TIMEOUT_S) -> str:
        """Output up to and including the first `text` not read before; AssertionError on timeout."""
        deadline = time.monotonic() + timeout_s
        needle = text.encode()
        while True:
            clean = _ESCAPES.sub(b"", self.seen)
            at = clean.find(needle)
            if at >= 0:
                # Keep what follows the match for the next read.
                self.seen = clean[at + len(needle) :]
                return clean[: at + len(needle)].decode(errors="replace")
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{text!r} not seen; the terminal showed: {clean[-2000:]!r}")
            try:
                message = self.ws.recv(timeout=left)
            except TimeoutError:
                continue
            if isinstance(message, str):
                self.errors.append(json.loads(message).get("error", message))
            else:
                self.seen += message

    def wait_closed(self, timeout_s: float = READ_TIMEOUT_S) -> int | None:
        """Read until the server closes; its close code."""
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                message = self.ws.recv(timeout=deadline - time.monotonic())
                if isinstance(message, str):
                    self.errors.append(json.loads(message).get("error", message))
        except ConnectionClosed:
            pass
        except TimeoutError as exc:
            raise AssertionError("the server did not close the shell") from exc
        return self.ws.close_code

    def close(self) -> None:
        self.ws.close()
