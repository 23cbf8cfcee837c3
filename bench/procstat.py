"""A process's resident memory and CPU time, read from /proc (Linux), no psutil needed."""

from __future__ import annotations

import os
from pathlib import Path

_CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """Resident set size now (VmRSS), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of every thread of the process so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    # After the ")" that ends the command name: field 14 (utime) is index 11, stime index 12.
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS_PER_S
