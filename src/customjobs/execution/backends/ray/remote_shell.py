"""Web-access shells on a Ray node: PTY sessions a replica's host keeps for remote relays.

The server cannot start a process on another node, so a replica's host (replica.py) runs
the shell there, on a PTY of that node (webaccess/pty.py: a session of its own, the
SHELL_SESSION_ENV token, hang-up then SIGKILL of everything it started on close), and the
relay on the server (shell_relay.py) moves the bytes through Ray calls: write, read with a
timeout, resize, close. Calls can come from several threads of the host at once, so each
session guards its terminal: closing never pulls the file descriptor from under a read.

A relay that dies without closing (SIGKILL, its node gone) stops reading; a session not
read for IDLE_CLOSE_S is closed here, so no shell outlives its page for long.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import threading
import time

from customjobs.execution.backends.base import ShellCommand, ShellUnavailable
from customjobs.webaccess.pty import PtyShell

# A relay reads at least every few seconds while its page is open; one silent this long is gone.
IDLE_CLOSE_S = 30.0
WATCH_INTERVAL_S = 1.0
# How long one write may wait for the terminal's input buffer to drain.
WRITE_TIMEOUT_S = 5.0
WRITE_RETRY_S = 0.01
READ_BYTES = 65536


class _Session:
    def __init__(self, shell: PtyShell) -> None:
        self.shell = shell
        self.used = time.monotonic()
        self.closed = False
        # Reads (which wait) and writes/resizes hold their own lock; close takes both.
        self.read_lock = threading.Lock()
        self.write_lock = threading.Lock()
        # Wakes a waiting read when the session closes.
        self.wake_r, self.wake_w = os.pipe()

    def read(self, timeout_s: float) -> bytes | None:
        self.used = time.monotonic()
        with self.read_lock:
            if self.closed:
                return b""
            ready, _, _ = select.select([self.shell.fd, self.wake_r], [], [], max(timeout_s, 0.0))
            if self.closed:
                return b""
            return self.shell.read(READ_BYTES) if self.shell.fd in ready else None

    def write(self, data: bytes) -> None:
        self.used = time.monotonic()
        deadline = time.monotonic() + WRITE_TIMEOUT_S
        with self.write_lock:
            while data and not self.closed and time.monotonic() < deadline:
                data = data[self.shell.write(data) :]
                if data:
                    time.sleep(WRITE_RETRY_S)  # the terminal's input buffer is full

    def resize(self, cols: int, rows: int) -> None:
        with self.write_lock:
            if not self.closed:
                self.shell.resize(cols, rows)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        os.write(self.wake_w, b"x")
        with self.write_lock, self.read_lock:
            for fd in (self.wake_r, self.wake_w):
                os.close(fd)
            # Hang-up, grace, SIGKILL: seconds. The caller (a relay on its way out, with the
            # server's own SIGKILL a second behind it) must not wait for that.
            threading.Thread(target=self.shell.close, name="shell-close", daemon=True).start()


class ShellSessions:
    """The open shells of one replica's host, by session id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}
        self._watcher: threading.Thread | None = None

    def open(self, command: ShellCommand, cols: int, rows: int) -> str:
        shell = PtyShell.start(command, cols, rows)
        session_id = secrets.token_hex(8)
        with self._lock:
            self._sessions[session_id] = _Session(shell)
            if self._watcher is None:
                self._watcher = threading.Thread(target=self._watch, name="shell-watch", daemon=True)
                self._watcher.start()
        return session_id

    def read(self, session_id: str, timeout_s: float) -> bytes | None:
        """The shell's next output; None if none came within the timeout; b"" once it ended."""
        session = self._sessions.get(session_id)
        return b"" if session is None else session.read(timeout_s)

    def write(self, session_id: str, data: bytes) -> None:
        self._get(session_id).write(data)

    def resize(self, session_id: str, cols: int, rows: int) -> None:
        self._get(session_id).resize(cols, rows)

    def close(self, session_id: str) -> None:
        with self._lock:
            session = self._sessions.pop(session_id, None)
        if session is not None:
            session.close()

    def close_all(self) -> None:
        for session_id in list(self._sessions):
            self.close(session_id)

    def _get(self, session_id: str) -> _Session:
        session = self._sessions.get(session_id)
        if session is None:
            raise ShellUnavailable("That shell has been closed.")
        return session

    def _watch(self) -> None:
        while True:
            time.sleep(WATCH_INTERVAL_S)
            now = time.monotonic()
            for session_id, session in list(self._sessions.items()):
                # A read in progress is a relay still there, however long it waits.
                if now - session.used > IDLE_CLOSE_S and not session.read_lock.locked():
                    with contextlib.suppress(OSError):
                        self.close(session_id)
