"""An interactive shell on a pseudo-terminal: what the browser's terminal talks to.

The shell gets the terminal as its controlling terminal in a session of its own (through
util-linux `setsid --ctty`, so nothing runs between fork and exec in this threaded
server), which is what makes job control, Ctrl-C and window-size changes work exactly as
in a local terminal. The master end stays here, non-blocking, for the event loop.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import secrets
import shutil
import struct
import subprocess
import termios

from customjobs.execution.backends.base import SHELL_SESSION_ENV, ShellCommand, ShellUnavailable
from customjobs.webaccess.reaper import end_shell

# How long the shell's processes have after SIGHUP (the terminal closing) before SIGKILL.
HANGUP_GRACE_S = 1.0
MAX_TERMINAL_SIZE = 1000


def _winsize(cols: int, rows: int) -> bytes:
    cols = min(max(cols, 1), MAX_TERMINAL_SIZE)
    rows = min(max(rows, 1), MAX_TERMINAL_SIZE)
    return struct.pack("HHHH", rows, cols, 0, 0)


class PtyShell:
    """One shell: `fd` is the terminal's master end; close() ends every process it started."""

    def __init__(self, proc: subprocess.Popen[bytes], fd: int, token: str) -> None:
        self.proc = proc
        self.fd = fd
        self.token = token
        self._closed = False

    @classmethod
    def start(cls, command: ShellCommand, cols: int, rows: int) -> PtyShell:
        setsid = shutil.which("setsid")
        if setsid is None:
            raise ShellUnavailable("util-linux `setsid` is not installed on the server.")
        token = secrets.token_hex(16)
        master, slave = os.openpty()
        try:
            fcntl.ioctl(slave, termios.TIOCSWINSZ, _winsize(cols, rows))
            proc = subprocess.Popen(
                [setsid, "--ctty", *_default_signals(), *command.argv],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=command.cwd,
                env={**command.env, SHELL_SESSION_ENV: token},
                close_fds=True,
            )
        except OSError as exc:
            os.close(master)
            raise ShellUnavailable(f"The shell could not be started: {exc}") from exc
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        return cls(proc, master, token)

    def resize(self, cols: int, rows: int) -> None:
        """TIOCSWINSZ: the kernel sends SIGWINCH to the terminal's foreground job."""
        with contextlib.suppress(OSError):
            fcntl.ioctl(self.fd, termios.TIOCSWINSZ, _winsize(cols, rows))

    def read(self, size: int = 65536) -> bytes | None:
        """What the shell wrote; b"" once every process let go of the terminal; None if nothing yet."""
        try:
            return os.read(self.fd, size)
        except BlockingIOError:
            return None
        except OSError:  # EIO: the terminal was hung up
            return b""

    def write(self, data: bytes) -> int:
        """Bytes typed into the terminal; how many the kernel took (0 when its buffer is full)."""
        try:
            return os.write(self.fd, data)
        except BlockingIOError:
            return 0
        except OSError:  # hung up: the reading side ends the session
            return len(data)

    def close(self) -> None:
        """Hang up the terminal and end every process of the shell (blocking, up to a few seconds)."""
        if self._closed:
            return
        self._closed = True
        os.close(self.fd)
        end_shell(self.proc.pid, self.token, HANGUP_GRACE_S)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=HANGUP_GRACE_S)


@functools.cache
def _default_signals() -> tuple[str, ...]:
    """`env --default-signal=...`, where this host's env has it (coreutils 8.31 and later).

    A server started in the background (`nohup customjobs serve &`) inherits SIGINT and
    SIGQUIT ignored, an ignored signal stays ignored across exec, and bash gives the
    commands it runs the dispositions it inherited: without this, Ctrl-C in a bash shell
    would never reach what it runs.
    """
    env = shutil.which("env")
    if env is None:
        return ()
    argv = (env, "--default-signal=HUP,INT,QUIT")
    try:
        works = subprocess.run([*argv, "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        works = False
    return argv if works else ()
