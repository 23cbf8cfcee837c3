"""The Ray backend as the server uses it: the Ray driver in a child process of its own.

Why a child: a Ray driver whose cluster head (GCS) has gone away ends its own process after
a minute ("Failed to connect to GCS within 60 seconds ... The program will terminate").
In the server's process that would take the API down with the cluster. Here only the
bridge process ends; the server keeps answering, keeps every log line it already brought
home, and starts a new bridge (at most every RESPAWN_INTERVAL_S) until the cluster answers.

While no bridge can reach the cluster, running replicas are reported as running (there is
no news of them) and timeouts still apply; once the cluster has not answered for
`--ray-unreachable-grace` seconds, every replica of every job is reported lost, so jobs end
FAILED saying so instead of waiting forever. A cluster that comes back after a restart of
its head has lost its actors, and their jobs fail naming each lost replica.

The bridge runs RayBackend (backend.py) and answers one call at a time over a pipe:
(method, args) -> (True, value) or (False, exception). LaunchError and ShellUnavailable
cross as themselves. A second, one-way pipe carries the backend's wake-ups (a replica
ended: the scheduler should pass now, not at its next tick) to the server's `notify`.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from customjobs.config import Settings
from customjobs.execution.backends.base import (
    BackendUnavailable,
    Handle,
    LaunchError,
    LaunchRequest,
    ReplicaFact,
    ReplicaStatus,
    ShellCommand,
    ShellUnavailable,
)
from customjobs.execution.host import Detected

log = logging.getLogger(__name__)

# A new bridge after one died is tried at most this often.
RESPAWN_INTERVAL_S = 5.0
# How long a call other than start may take before the bridge is deemed stuck.
CALL_TIMEOUT_S = 60.0
# The bridge's start-up: importing Ray and connecting to the cluster.
CONNECT_TIMEOUT_S = 60.0


class ClusterUnreachable(RuntimeError):
    """No bridge to the Ray cluster now; the scheduler tries again on its next pass."""


def _bridge_main(conn: Connection, settings: Settings, log_level: int, wake: Connection) -> None:
    """The child: connect, say so, then answer calls until the pipe closes."""
    from customjobs.execution.backends.ray.backend import RayBackend

    # Its lines go to the server's stderr, as the server's own do.
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        backend = RayBackend(settings, _waker(wake))
    except Exception as exc:
        conn.send((False, BackendUnavailable(str(exc))))
        return
    conn.send((True, None))
    while True:
        try:
            method, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send((True, getattr(backend, method)(*args)))
        except (LaunchError, ShellUnavailable) as exc:  # for the user, as they are
            conn.send((False, exc))
        except Exception as exc:  # for the scheduler's log; the bridge itself goes on
            conn.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


def _waker(wake: Connection) -> Callable[[], None]:
    """The child's notify: one byte to the server, from any thread (Ray calls it from its own)."""
    lock = threading.Lock()

    def notify() -> None:
        with lock, contextlib.suppress(OSError):  # the server is gone: nobody to wake
            wake.send_bytes(b"w")

    return notify


def _pass_wakes(wake: Connection, notify: Callable[[], None]) -> None:
    """The server's side: every wake-up of one bridge, until that bridge ends."""
    with wake:
        while True:
            try:
                wake.recv_bytes()
            except (EOFError, OSError):
                return
            notify()


class RayBridge:
    """ExecutionBackend for `serve --backend ray`: every call is answered by the bridge."""

    name = "ray"

    def __init__(self, settings: Settings, notify: Callable[[], None] = lambda: None) -> None:
        self._settings = settings
        self._notify = notify
        self._lock = threading.Lock()
        self._process: Any = None
        self._conn: Connection | None = None
        self._last_spawn = 0.0
        self._unreachable_since: float | None = None
        self._start_timeout_s = settings.ray_placement_timeout_s + 3 * CALL_TIMEOUT_S
        # At start-up an unreachable cluster is a configuration error: say so and stop.
        with self._lock:
            self._spawn()
        self._detected: Detected = self._call("detected_capacity")

    def detected_capacity(self) -> Detected:
        return self._detected

    # the ExecutionBackend protocol -----------------------------------------------------

    def place(self, request: LaunchRequest) -> str | None:
        try:
            reason: str | None = self._call("place", request)
        except ClusterUnreachable as exc:
            return f"Waiting for the Ray cluster to place the job: {exc}."
        return reason

    def unplace(self, job_id: int, attempt: int) -> None:
        try:
            self._call("unplace", job_id, attempt)
        except ClusterUnreachable as exc:
            log.warning("job %s: its placement group is left on the Ray cluster: %s", job_id, exc)

    def start(self, request: LaunchRequest) -> Handle:
        handle: Handle = self._call("start", request, timeout_s=self._start_timeout_s)
        return handle

    def poll(self, handle: Handle) -> list[ReplicaFact]:
        try:
            facts: list[ReplicaFact] = self._call("poll", handle)
            return facts
        except ClusterUnreachable as exc:
            return self._unreachable_facts(handle, exc)

    def stop(self, handle: Handle, force: bool) -> None:
        try:
            self._call("stop", handle, force)
        except ClusterUnreachable as exc:
            log.warning("cannot stop replicas now: %s", exc)

    def all_stopped(self, handle: Handle) -> bool:
        try:
            stopped: bool = self._call("all_stopped", handle)
            return stopped
        except ClusterUnreachable:
            return self._given_up()

    def reattach(self, request: LaunchRequest, names: list[str]) -> Handle | None:
        handle: Handle | None = self._call("reattach", request, names, timeout_s=self._start_timeout_s)
        return handle

    def release(self, handle: Handle) -> None:
        try:
            self._call("release", handle)
        except ClusterUnreachable as exc:
            log.warning("job's actors and placement group left on the Ray cluster: %s", exc)

    def shell_command(self, handle: Handle, replica: str) -> ShellCommand:
        """The relay command (shell_relay.py); the server runs it, not the bridge."""
        try:
            command: ShellCommand = self._call("shell_command", handle, replica)
        except ClusterUnreachable as exc:
            raise ShellUnavailable(f"No shell now: {exc}.") from exc
        return command

    def close(self) -> None:
        """Disconnect; detached actors keep their replicas running for the next server."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
            if self._process is not None:
                self._process.join(timeout=10)
                if self._process.is_alive():
                    self._process.kill()

    # the bridge ------------------------------------------------------------------------

    def _call(self, method: str, *args: Any, timeout_s: float = CALL_TIMEOUT_S) -> Any:
        with self._lock:
            conn = self._connection()
            try:
                conn.send((method, args))
                if not conn.poll(timeout_s):
                    raise TimeoutError(f"{method} took longer than {timeout_s:g}s")
                ok, value = conn.recv()
            except (EOFError, OSError, TimeoutError) as exc:
                self._lost(f"the Ray bridge ended during {method}: {exc}")
                raise ClusterUnreachable(self._why()) from exc
        self._unreachable_since = None
        if ok:
            return value
        raise value

    def _connection(self) -> Connection:
        """The live bridge's pipe, starting a new bridge when the last one ended."""
        if self._conn is not None and self._process is not None and self._process.is_alive():
            return self._conn
        if self._conn is not None:
            self._lost(f"the Ray bridge exited with {self._process.exitcode}")
        if time.monotonic() - self._last_spawn < RESPAWN_INTERVAL_S:
            raise ClusterUnreachable(self._why())
        try:
            self._spawn()
        except BackendUnavailable as exc:
            self._unreachable_since = self._unreachable_since or time.monotonic()
            raise ClusterUnreachable(self._why(str(exc))) from exc
        assert self._conn is not None
        return self._conn

    def _spawn(self) -> None:
        self._last_spawn = time.monotonic()
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        wakes, waker = context.Pipe(duplex=False)
        process = context.Process(
            target=_bridge_main,
            args=(child, self._settings, logging.getLogger().getEffectiveLevel(), waker),
            name="customjobs-ray-bridge",
            daemon=True,
        )
        process.start()
        child.close()
        waker.close()  # the child's end: EOF here once the child is gone, and the thread ends
        threading.Thread(
            target=_pass_wakes, args=(wakes, self._notify), name="ray-bridge-wakes", daemon=True
        ).start()
        ok, error = (False, BackendUnavailable("the Ray bridge did not start"))
        if parent.poll(CONNECT_TIMEOUT_S + 30):
            with contextlib.suppress(EOFError):  # it died before a word: "did not start"
                ok, error = parent.recv()
        if not ok:
            process.kill()
            parent.close()
            raise error
        self._process, self._conn = process, parent
        log.info("Ray bridge started (pid %s)", process.pid)

    def _lost(self, why: str) -> None:
        log.warning("%s", why)
        if self._conn is not None:
            self._conn.close()
        if self._process is not None and self._process.is_alive():
            self._process.kill()
        self._conn = self._process = None
        self._unreachable_since = self._unreachable_since or time.monotonic()

    def _why(self, detail: str = "") -> str:
        since = self._unreachable_since or time.monotonic()
        words = f"the Ray cluster at {self._settings.ray_address or 'auto'} has not answered for "
        words += f"{time.monotonic() - since:.0f}s"
        return f"{words} ({detail})" if detail else words

    def _given_up(self) -> bool:
        since = self._unreachable_since
        return since is not None and time.monotonic() - since >= self._settings.ray_unreachable_grace_s

    def _unreachable_facts(self, handle: Handle, exc: Exception) -> list[ReplicaFact]:
        """No news: still running, until the grace is over; then every replica is lost."""
        if not self._given_up():
            return [ReplicaFact(r["name"], ReplicaStatus.RUNNING) for r in handle["replicas"]]
        return [ReplicaFact(r["name"], ReplicaStatus.LOST, detail=str(exc)) for r in handle["replicas"]]
