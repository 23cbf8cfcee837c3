"""A shell on a PTY: its controlling terminal, window size, Ctrl-C, and what closing ends."""

from __future__ import annotations

import os
import select
import time
from collections.abc import Iterator

import pytest

from customjobs.execution.backends.base import ShellCommand
from customjobs.webaccess.pty import PtyShell
from customjobs.webaccess.reaper import shell_processes

READ_TIMEOUT_S = 20.0  # a generous bound: the suite runs on a loaded 2-core machine


@pytest.fixture
def shell() -> Iterator[PtyShell]:
    env = {"PATH": os.environ["PATH"], "PS1": "test$ ", "TERM": "dumb", "GREETING": "hello"}
    opened = PtyShell.start(ShellCommand(("/bin/sh", "-i"), env, None), 90, 33)
    yield opened
    opened.close()
    _unread.pop(id(opened), None)


# What each shell printed after the text a read_until last waited for: two lines often come
# in one read (hello-42 and 33 90 did, under load), and the second wait must still see its own.
_unread: dict[int, bytes] = {}


def read_until(shell: PtyShell, text: str) -> str:
    seen = _unread.pop(id(shell), b"")
    wanted = text.encode()
    deadline = time.monotonic() + READ_TIMEOUT_S
    while wanted not in seen:
        assert time.monotonic() < deadline, f"{text!r} not in {seen!r}"
        select.select([shell.fd], [], [], 0.05)
        seen += shell.read() or b""
    end = seen.index(wanted) + len(wanted)
    _unread[id(shell)] = seen[end:]
    return seen[:end].decode(errors="replace")


def wait_for_foreground(shell: PtyShell, command: str) -> None:
    """Until a process of the shell's session runs `command` (its /proc comm) in the
    terminal's foreground process group. The shell forks the command and hands it the
    terminal separately: a ^C sent after the exec but before the hand-over reaches the shell,
    not the command (a 30-second sleep then outlived the test's wait)."""
    deadline = time.monotonic() + READ_TIMEOUT_S
    while not any(
        _comm(pid) == command and _group(pid) == os.tcgetpgrp(shell.fd)
        for pid in shell_processes(shell.proc.pid, shell.token)
    ):
        assert time.monotonic() < deadline, f"no {command!r} in the shell's foreground"
        time.sleep(0.02)


def _group(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _comm(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/comm") as comm:
            return comm.read().strip()
    except OSError:
        return None  # it ended between the listing and the read


def test_environment_size_and_ctrl_c(shell: PtyShell) -> None:
    shell.write(b"echo $GREETING-$((40+2)); stty size\n")
    read_until(shell, "hello-42")
    read_until(shell, "33 90")
    shell.resize(120, 40)
    shell.write(b"stty size\n")
    read_until(shell, "40 120")
    shell.write(b"sleep 30\n")
    wait_for_foreground(shell, "sleep")  # a ^C sent before then is not the one tested
    shell.write(b"\x03")
    shell.write(b"echo done-$?\n")
    read_until(shell, "done-130")


def test_close_ends_the_shell_and_its_background_jobs(shell: PtyShell) -> None:
    shell.write(b"sleep 31 & echo started-$((0+1))\n")
    read_until(shell, "started-1")
    assert len(shell_processes(shell.proc.pid, shell.token)) == 2
    shell.close()
    assert shell_processes(shell.proc.pid, shell.token) == []
    assert shell.proc.poll() is not None
