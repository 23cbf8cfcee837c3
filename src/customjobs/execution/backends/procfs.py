"""What Linux says about a process or process group, read from /proc.

Replicas outlive a server that is killed, so a restarted server must tell a live
replica from a dead one, and from an unrelated process that reuses its pid.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

# How much later than its pid file a process may have started and still be the one that wrote it.
PID_FILE_SLACK_S = 2.0


@cache
def _boot_time_s() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise RuntimeError("/proc/stat has no btime")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    return raw[raw.rindex(")") + 2 :].split()


def start_time_s(pid: int) -> float | None:
    fields = _stat_fields(pid)
    if fields is None:
        return None
    ticks = int(fields[19])  # field 22 of stat: starttime, in clock ticks after boot
    return _boot_time_s() + ticks / os.sysconf("SC_CLK_TCK")


def is_alive(pid: int, not_started_after_s: float | None = None) -> bool:
    """Running (not a zombie), and not a newer process that took over the pid."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return False
    if not_started_after_s is not None:
        started = _boot_time_s() + int(fields[19]) / os.sysconf("SC_CLK_TCK")
        if started > not_started_after_s + PID_FILE_SLACK_S:
            return False
    return True


def group_alive(pgid: int) -> bool:
    """Does any non-zombie process remain in the process group?"""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Zombies keep a group "existing" until reaped; only living members count.
    with os.scandir("/proc") as entries:  # closed on the early return too
        for entry in entries:
            if entry.name.isdigit():
                fields = _stat_fields(int(entry.name))
                if fields is not None and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                    return True
    return False
