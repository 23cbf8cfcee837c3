"""A replica's keeper on a Ray node: runs the command, and takes it down with its agent.

`python -I -S .../customjobs/execution/backends/local/keeper.py WATCH_PID PREFIX CLEANUP -- ARGV...`
(or `python -m customjobs.execution.backends.local.keeper ...`)

The Ray backend's node agent (ray/agent.py, ray/replica.py) starts the user's command
through this program, in a session of its own, so one signal to the process group reaches
the whole tree. The keeper first forks and lets its parent exit: Ray kills a worker's
direct children when the worker dies, and a keeper killed that way could not clean up. The
parent writes the forked keeper's pid to PREFIX.pid before it exits (so the agent always
knows which process to watch), and the keeper, in the same process group, runs the
command and:
- writes the command's exit status, shell-style (128+N for signal N), to PREFIX.exit
  (atomically), as wrapper.py does for the local backends, so exit codes and failure
  messages read exactly the same;
- watches WATCH_PID, the agent's process: when it is gone (its node's raylet was killed,
  the agent was killed), it stops the whole group, and runs CLEANUP (a JSON list: a
  command, e.g. `podman rm -f NAME` for a container, which outlives its client; [] for
  none), so no replica outlives what Ray says is gone.

Stdlib only: it runs before anything of the job is set up.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

# How often the keeper checks that the agent that started it is still alive.
WATCH_INTERVAL_S = 0.5
# After the agent is gone: SIGTERM to the group, then SIGKILL this much later.
ORPHAN_GRACE_S = 2.0
# How long CLEANUP may take.
CLEANUP_TIMEOUT_S = 60.0
# What the keeper reports when it stopped its replica because the agent was gone.
ORPHANED_EXIT = 137


def _ignore(signum: int, frame: object) -> None:
    """SIGTERM to the group reaches the command too; the keeper stays to record its end.

    A handler, not SIG_IGN: an ignored disposition would be inherited by the command.
    """


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write(path: Path, value: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{value}\n")
    tmp.rename(path)


def run(watch_pid: int, exit_file: Path, argv: list[str], cleanup: list[str]) -> int:
    signal.signal(signal.SIGTERM, _ignore)
    signal.signal(signal.SIGINT, _ignore)
    try:
        child = subprocess.Popen(argv)
    except OSError as exc:
        print(f"customjobs: the replica's command could not be started: {exc}", file=sys.stderr, flush=True)
        _write(exit_file, 127)
        return 127
    while True:
        try:
            code = child.wait(timeout=WATCH_INTERVAL_S)
        except subprocess.TimeoutExpired:
            if _alive(watch_pid):
                continue
            _take_down_group(child, exit_file, cleanup)
            return ORPHANED_EXIT
        code = 128 - code if code < 0 else code
        _write(exit_file, code)
        return code


def _take_down_group(child: subprocess.Popen[bytes], exit_file: Path, cleanup: list[str]) -> None:
    print("customjobs: the replica's Ray host is gone; stopping the replica", file=sys.stderr, flush=True)
    group = os.getpgrp()
    os.killpg(group, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=ORPHAN_GRACE_S)
    if cleanup:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(cleanup, stdin=subprocess.DEVNULL, capture_output=True, timeout=CLEANUP_TIMEOUT_S)
    _write(exit_file, ORPHANED_EXIT)
    # Kills the keeper too, and whatever the command left behind in the group.
    os.killpg(group, signal.SIGKILL)


def main() -> None:
    args = sys.argv[1:]
    if len(args) < 5 or args[3] != "--":
        print(
            "usage: python -m customjobs.execution.backends.local.keeper WATCH_PID PREFIX CLEANUP -- ARGV...",
            file=sys.stderr,
        )
        sys.exit(2)
    prefix = args[1]
    # The parent exits at once (the agent reaps it); the keeper goes on in the same group.
    child = os.fork()
    if child != 0:
        _write(Path(f"{prefix}.pid"), child)
        os._exit(0)
    sys.exit(run(int(args[0]), Path(f"{prefix}.exit"), args[4:], json.loads(args[2])))


if __name__ == "__main__":
    main()
