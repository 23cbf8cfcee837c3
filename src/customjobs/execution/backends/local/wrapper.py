"""A replica's host process under a /bin/sh wrapper that records its pid and exit status.

The wrapper writes `<prefix>.pid` before the command runs and `<prefix>.exit` after it
ends, and the command's output goes straight to the log file. Each file is one `echo`, a
single write(2) of the number and a newline, and a reader takes it only once the newline
is there: a file caught between its creation and that write reads as not written yet.
(They used to be written beside and renamed into place; `mv` is no shell builtin, and its
two processes cost more than the `true` they wrapped, 2.5 ms of CPU per replica.)

Nothing depends on the server staying alive: a server killed with -9 and started again
finds the exit status on disk, and the log keeps every line written while no server ran.
The container backend runs `podman run` (attached) under it, so the container's exit code
lands in the exit file exactly as a host process's would. Both backends (local.py for
host processes, container.py) start replicas through it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from customjobs.execution.backends import procfs

log = logging.getLogger(__name__)

# $0 is the replica's file prefix; "$@" the command.
WRAPPER = 'echo $$ > "$0.pid"; "$@"; c=$?; echo $c > "$0.exit"; exit $c'


def _read_number(path: Path) -> int | None:
    """The number in a file of one line, None until that line is whole (newline included)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    if not text.endswith("\n"):
        return None
    try:
        return int(text)
    except ValueError:
        return None


def read_exit(prefix: Path) -> int | None:
    return _read_number(Path(f"{prefix}.exit"))


def read_pid(prefix: Path) -> tuple[int, float] | None:
    """The wrapper's pid and when its pid file was written, if it got that far."""
    path = Path(f"{prefix}.pid")
    pid = _read_number(path)
    if pid is None:
        return None
    try:
        return pid, path.stat().st_mtime
    except FileNotFoundError:
        return None


class Wrappers:
    """Starts wrapped commands and reaps them as soon as they end, waking the scheduler."""

    def __init__(self, notify: Callable[[], None]) -> None:
        self._notify = notify
        # Exit statuses of wrappers we reaped, for those killed before they could record one.
        self._returncodes: dict[int, int] = {}
        # Wrappers this server started and has not reaped yet.
        self._spawned: set[int] = set()
        self._lock = threading.Lock()
        self._reaper = _Reaper(self._reaped)

    def spawn(
        self,
        prefix: Path,
        argv: Sequence[str],
        log_path: Path,
        env: dict[str, str] | None,
        cwd: Path | None = None,
    ) -> int:
        """Start `argv` under the wrapper, output appended to `log_path`; returns the pid.

        `env` None: the server's own environment (what a container CLI needs, e.g. its
        CONTAINERS_CONF), never what the job asked for.
        """
        with open(log_path, "ab") as out:
            proc = subprocess.Popen(
                ["/bin/sh", "-c", WRAPPER, str(prefix), *argv],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=cwd or prefix.parent,
                env=env,
                # Its own session: a signal or a kill -9 meant for the server never reaches it.
                start_new_session=True,
            )
        with self._lock:
            self._spawned.add(proc.pid)
        self._reaper.watch(proc)
        return proc.pid

    def _reaped(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._returncodes[proc.pid] = proc.wait()  # already ended: this only reads its status
            self._spawned.discard(proc.pid)
        self._notify()

    def alive(self, pid: int, started_s: float | None) -> bool:
        """Still running: ours and not reaped, or (after a restart) alive in /proc."""
        with self._lock:
            if pid in self._spawned:
                return True
            if pid in self._returncodes:
                return False
        return procfs.is_alive(pid, started_s)

    def returncode(self, pid: int) -> int | None:
        """A shell-style status for a wrapper of ours that ended (128+N when killed by signal N)."""
        with self._lock:
            code = self._returncodes.get(pid)
        if code is None:
            return None
        return 128 - code if code < 0 else code

    def forget(self, pid: int) -> None:
        with self._lock:
            self._returncodes.pop(pid, None)
            self._spawned.discard(pid)


class _Reaper:
    """Reaps every wrapper the moment it ends, from one thread: each wrapper's pidfd becomes
    readable when it exits. A thread per wrapper, blocked in wait(), cost a thread start
    (and its hand-over of the GIL) on every launch. Where pidfds are missing (a kernel
    before 5.3), a thread per wrapper it is."""

    def __init__(self, on_exit: Callable[[subprocess.Popen[bytes]], None]) -> None:
        self._on_exit = on_exit
        self._lock = threading.Lock()
        self._new: list[subprocess.Popen[bytes]] = []
        self._selector = selectors.DefaultSelector()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        self._selector.register(self._wake_read, selectors.EVENT_READ)
        self._thread: threading.Thread | None = None

    def watch(self, proc: subprocess.Popen[bytes]) -> None:
        if not hasattr(os, "pidfd_open"):
            self._wait_in_thread(proc)
            return
        with self._lock:
            self._new.append(proc)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="reaper", daemon=True)
                self._thread.start()
        os.write(self._wake_write, b"x")

    def _run(self) -> None:
        while True:
            for key, _ in self._selector.select():
                if key.fd == self._wake_read:
                    self._register_new()
                    continue
                self._selector.unregister(key.fd)
                os.close(key.fd)
                self._ended(key.data)

    def _register_new(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self._wake_read, 4096):
                pass
        with self._lock:
            new, self._new = self._new, []
        for proc in new:
            try:
                # A wrapper that already ended is a zombie until reaped: its pidfd is readable.
                fd = os.pidfd_open(proc.pid)
            except OSError:
                self._wait_in_thread(proc)
                continue
            self._selector.register(fd, selectors.EVENT_READ, proc)

    def _ended(self, proc: subprocess.Popen[bytes]) -> None:
        try:
            self._on_exit(proc)
        except Exception:  # the reaper must outlive any one wrapper
            log.exception("reaping wrapper %s failed", proc.pid)

    def _wait_in_thread(self, proc: subprocess.Popen[bytes]) -> None:
        def wait() -> None:
            proc.wait()
            self._ended(proc)

        threading.Thread(target=wait, name=f"reaper-{proc.pid}", daemon=True).start()
