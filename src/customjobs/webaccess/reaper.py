"""Find and end every process an interactive shell started, on the host or inside a container.

A shell runs in a session of its own, so its session id finds what it started on the
host, background jobs in their own process groups included. Inside a container the
shell is a child of the container runtime, not of ours: there the random token the
shell carries in its environment (SHELL_SESSION_ENV), which its children inherit, finds
them. Neither ever matches a replica's own processes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from customjobs.execution.backends.base import SHELL_SESSION_ENV

END_POLL_S = 0.05
# How long after SIGKILL to keep looking: a process stuck in the kernel is left to its fate.
KILL_WAIT_S = 5.0


def _session_id(pid: int) -> int | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return None if fields[0] in ("Z", "X") else int(fields[3])  # field 6 of stat: session


def _has_token(pid: int, marker: bytes) -> bool:
    try:
        return marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False


def shell_processes(session: int, token: str) -> list[int]:
    """Live processes in the shell's session, or carrying its token."""
    marker = f"{SHELL_SESSION_ENV}={token}".encode()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        sid = _session_id(pid)
        if sid is not None and (sid == session or _has_token(pid, marker)):
            found.append(pid)
    return found


def end_shell(session: int, token: str, grace_s: float) -> None:
    """SIGHUP (what a closed terminal sends) to every process of the shell, then SIGKILL."""
    deadline = time.monotonic() + grace_s
    give_up = deadline + KILL_WAIT_S
    sig = signal.SIGHUP
    while (pids := shell_processes(session, token)) and time.monotonic() < give_up:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
            if sig == signal.SIGHUP:
                # A shell ignores SIGHUP while it waits for a foreground job; SIGCONT wakes stopped ones.
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGCONT)
        time.sleep(END_POLL_S)
        if time.monotonic() >= deadline:
            sig = signal.SIGKILL
