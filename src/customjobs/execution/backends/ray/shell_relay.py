"""The server's end of a web-access shell into a Ray replica: a relay on the server's PTY.

webaccess gives this process the browser's terminal (a PTY of the server, its controlling
terminal); the shell itself runs on the replica's node, opened by the replica's host
(remote_shell.py). This relay connects to the cluster as a Ray driver of its own, puts
the server's terminal in raw mode (the node's PTY does the echo and line editing, as
with ssh), and copies bytes both ways until either side ends. A window resize arrives
here as SIGWINCH and is passed on. Closing the page hangs up this terminal (SIGHUP):
the relay closes the remote shell, which ends everything it started there.

    python -m customjobs.execution.backends.ray.shell_relay ADDRESS NAMESPACE ENTRY_JSON
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import select
import signal
import struct
import sys
import termios
import threading
import tty
from typing import Any

# How long one remote read waits for output: the host's answer comes at once when there is.
READ_WAIT_S = 0.5
# A read's answer later than this means the host is stuck or far away: ask again.
READ_CALL_TIMEOUT_S = 30.0
OPEN_TIMEOUT_S = 60.0
CALL_TIMEOUT_S = 30.0
# The server sends SIGKILL a second after the hang-up: closing must not wait longer.
CLOSE_WAIT_S = 0.7
STDIN_POLL_S = 0.1


def relay_argv(address: str, namespace: str, entry: dict[str, Any]) -> tuple[str, ...]:
    """The command the server runs under the page's PTY to reach that replica's shell."""
    module = "customjobs.execution.backends.ray.shell_relay"
    return (sys.executable, "-m", module, address, namespace, json.dumps(entry))


def _window() -> tuple[int, int]:
    try:
        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(0, termios.TIOCGWINSZ, b"\0" * 8))
    except OSError:
        return 80, 24
    return cols or 80, rows or 24


def _say(text: str) -> None:
    """A line for the user, on the terminal (raw mode: the line end is ours to write)."""
    with contextlib.suppress(OSError):
        os.write(1, f"\r\n{text}\r\n".encode(errors="replace"))


def _why(exc: BaseException) -> str:
    """The host's own words when it raised (ShellUnavailable), else Ray's first line."""
    cause = getattr(exc, "cause", None)
    text = str(cause if isinstance(cause, Exception) else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Relay:
    def __init__(self, host: Any, entry: dict[str, Any], session: str, done: threading.Event) -> None:
        self._host, self._entry, self._session = host, entry, session
        self.done = done
        self.resized = threading.Event()

    def call(self, method: str, *args: Any, timeout_s: float = CALL_TIMEOUT_S) -> Any:
        import ray

        from customjobs.execution.backends.ray.reach import call_host

        return ray.get(call_host(self._host, self._entry, method, self._session, *args), timeout=timeout_s)

    def to_terminal(self) -> None:
        """The remote shell's output to this terminal, until the shell ends."""
        from ray.exceptions import GetTimeoutError

        try:
            while not self.done.is_set():
                try:
                    data = self.call("shell_read", READ_WAIT_S, timeout_s=READ_CALL_TIMEOUT_S)
                except GetTimeoutError:
                    continue
                if data is None:
                    continue
                if not data:
                    return
                _write_all(1, data)
        except Exception as exc:  # the host or its node went away: say so, then end
            if not self.done.is_set():
                _say(f"The shell ended: {_why(exc)}")
        finally:
            self.done.set()

    def from_terminal(self) -> None:
        """This terminal's input (and size) to the remote shell, until either side ends."""
        while not self.done.is_set():
            if self.resized.is_set():
                self.resized.clear()
                self.call("shell_resize", *_window())
            try:
                ready, _, _ = select.select([0], [], [], STDIN_POLL_S)
                data = os.read(0, 65536) if ready else None
            except InterruptedError:
                continue
            except OSError:  # EIO: the page went away and the server hung up the terminal
                return
            if data is None:
                continue
            if not data:
                return
            # Waited for, one at a time: the host may run calls concurrently, keystrokes must not.
            self.call("shell_write", data)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


def main(argv: list[str]) -> int:
    address, namespace, entry_json = argv
    entry: dict[str, Any] = json.loads(entry_json)
    # Ray's own words would land on the user's terminal: errors only.
    logging.basicConfig(level=logging.ERROR)
    saved = termios.tcgetattr(0) if os.isatty(0) else None
    if saved is not None:
        tty.setraw(0)
    try:
        return _run(address, namespace, entry)
    finally:
        if saved is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(0, termios.TCSADRAIN, saved)


def _run(address: str, namespace: str, entry: dict[str, Any]) -> int:
    import ray

    from customjobs.execution.backends.ray.reach import call_host, find_host

    replica = str(entry.get("name", "the replica"))
    # SIGHUP/SIGTERM: the page closed (even while this still connects): close the remote shell.
    done = threading.Event()
    for sig in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    try:
        ray.init(
            address=address,
            namespace=namespace,
            logging_level=logging.ERROR,
            log_to_driver=False,
            configure_logging=False,
        )
        host = find_host(entry)
        if host is None:
            _say(f"The replica {replica} is gone: its Ray host no longer exists.")
            return 1
        cols, rows = _window()
        session = ray.get(call_host(host, entry, "shell_open", cols, rows), timeout=OPEN_TIMEOUT_S)
    except Exception as exc:
        _say(f"No shell into {replica}: {_why(exc)}")
        return 1
    relay = Relay(host, entry, session, done)
    signal.signal(signal.SIGWINCH, lambda *_: relay.resized.set())
    reader = threading.Thread(target=relay.to_terminal, name="shell-output", daemon=True)
    reader.start()
    try:
        relay.from_terminal()
    except Exception as exc:
        _say(f"The shell ended: {_why(exc)}")
    finally:
        relay.done.set()
        with contextlib.suppress(Exception):
            relay.call("shell_close", timeout_s=CLOSE_WAIT_S)
    return 0


if __name__ == "__main__":
    sys.stdout.flush()
    # No ray.shutdown(): the remote shell is closed, and the server's SIGKILL is a second away.
    os._exit(main(sys.argv[1:]))
