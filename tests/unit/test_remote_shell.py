"""The node side of a Ray replica's shell (remote_shell.py), on real PTYs of this machine.

The relay's calls (write, read with a timeout, resize, close) are made here directly, as
the replica's host makes them for it; the whole path over Ray is tests/on_ray/test_shells_on_ray.py.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from customjobs.execution.backends import shells
from customjobs.execution.backends.base import ShellCommand, ShellUnavailable
from customjobs.execution.backends.ray import remote_shell
from customjobs.execution.backends.ray.remote_shell import ShellSessions
from support.server import processes_with


def _read_until(sessions: ShellSessions, session: str, text: str, timeout_s: float = 10) -> str:
    seen = b""
    deadline = time.monotonic() + timeout_s
    while text.encode() not in seen.replace(b"\r", b""):
        assert time.monotonic() < deadline, f"{text!r} not seen in {seen[-500:]!r}"
        data = sessions.read(session, 0.2)
        assert data != b"", f"the shell ended before {text!r}: {seen[-500:]!r}"
        seen += data or b""
    return seen.replace(b"\r", b"").decode(errors="replace")


def _wait_gone(marker: str, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while processes_with(marker):
        assert time.monotonic() < deadline, f"{marker!r} is still running"
        time.sleep(0.05)


def test_a_session_has_the_replicas_environment_resizes_and_closing_ends_its_jobs(tmp_path: Path) -> None:
    # The replica's keeper, as far as its shell is concerned: a process with its env and cwd.
    env = {**os.environ, "REMOTE_MARKER": "from-the-replica"}
    replica = subprocess.Popen(["sleep", "60"], env=env, cwd=tmp_path)
    try:
        # Until it has exec'd, the child still holds this process's environment.
        while not Path(f"/proc/{replica.pid}/cmdline").read_bytes().startswith(b"sleep"):
            time.sleep(0.01)
        command = shells.shell_like_process(replica.pid, "workerpool1-0")
        _session_with_the_replicas_environment(command, tmp_path)
    finally:
        replica.kill()
        replica.wait()


def _session_with_the_replicas_environment(command: ShellCommand, cwd: Path) -> None:
    sessions = ShellSessions()
    session = sessions.open(command, 100, 30)
    _read_until(sessions, session, "workerpool1-0$ ")
    sessions.write(session, b"echo M=$REMOTE_MARKER; pwd; stty size\n")
    shown = _read_until(sessions, session, "30 100")
    assert "M=from-the-replica" in shown and f"\n{cwd.resolve()}\n" in shown
    sessions.resize(session, 120, 40)
    sessions.write(session, b"stty size; sleep 5811 &\n")
    _read_until(sessions, session, "40 120")
    deadline = time.monotonic() + 10
    while not processes_with("sleep 5811"):
        assert time.monotonic() < deadline, "the background job never started"
        time.sleep(0.05)
    sessions.close(session)
    assert sessions.read(session, 0.1) == b""
    with pytest.raises(ShellUnavailable):
        sessions.write(session, b"true\n")
    _wait_gone("sleep 5811")


def test_a_shell_that_exits_reads_as_ended() -> None:
    sessions = ShellSessions()
    session = sessions.open(shells.shell_like_process(os.getpid(), "workerpool0-0"), 80, 24)
    sessions.write(session, b"exit\n")
    deadline = time.monotonic() + 10
    while (data := sessions.read(session, 0.2)) != b"":
        assert time.monotonic() < deadline, f"still reading {data!r}"
    sessions.close(session)


def test_a_session_nobody_reads_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A relay killed outright never closes its shell: the host does, once it stops reading."""
    monkeypatch.setattr(remote_shell, "IDLE_CLOSE_S", 0.5)
    monkeypatch.setattr(remote_shell, "WATCH_INTERVAL_S", 0.1)
    sessions = ShellSessions()
    session = sessions.open(shells.shell_like_process(os.getpid(), "workerpool0-0"), 80, 24)
    sessions.write(session, b"sleep 5812 &\n")
    deadline = time.monotonic() + 10
    while not processes_with("sleep 5812"):
        assert time.monotonic() < deadline, "the background job never started"
        time.sleep(0.05)
    _wait_gone("sleep 5812")
    assert sessions.read(session, 0.1) == b""
