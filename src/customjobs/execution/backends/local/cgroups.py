"""CPU and memory limits for host-process replicas, through cgroup v2, where the server may.

`serve --cgroup-root DIR` names a cgroup v2 directory this server may write (for example
one made with `systemd-run --user --scope -p Delegate=yes`, or by an administrator) with
the cpu and memory controllers available. Each replica then runs in a child cgroup of its
own with `cpu.max` and `memory.max` set from its grant; the replica joins it before its
command starts (a two-line shell prelude that then execs the command), so every process it
forks is inside. `memory.events` tells afterwards whether the kernel's OOM killer ended it.

Without a cgroup root (the default: an unprivileged server cannot in general create cgroups,
and cgroup v2 forbids processes in a cgroup that delegates controllers to children), the
limits of host processes are advisory: they are accounted by the scheduler, not enforced.
"""

from __future__ import annotations

import contextlib
import logging
import math
from pathlib import Path

from customjobs.domain.placement import ReplicaAllocation

log = logging.getLogger(__name__)

CPU_PERIOD_US = 100_000
_CONTROLLERS = ("cpu", "memory")
# $0 is the cgroup directory; "$@" the replica's command.
_JOIN = (
    '{ echo $$ > "$0/cgroup.procs"; } 2>/dev/null || '
    'echo "[customjobs] could not join cgroup $0: CPU and memory limits not applied" >&2; exec "$@"'
)


class CgroupLimits:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def at(cls, root: Path | None) -> CgroupLimits | None:
        """The root if it is a usable cgroup v2 directory (controllers delegated), else None."""
        if root is None:
            return None
        try:
            available = (root / "cgroup.controllers").read_text().split()
            missing = [c for c in _CONTROLLERS if c not in available]
            if missing:
                raise OSError(f"controllers {missing} are not available there")
            enabled = (root / "cgroup.subtree_control").read_text().split()
            wanted = " ".join(f"+{c}" for c in _CONTROLLERS if c not in enabled)
            if wanted:
                (root / "cgroup.subtree_control").write_text(wanted)
        except OSError as exc:
            log.warning(
                "--cgroup-root %s is not a usable cgroup v2 directory (%s): limits are advisory", root, exc
            )
            return None
        return cls(root)

    def create(self, name: str, grant: ReplicaAllocation) -> Path | None:
        """A child cgroup with the grant's limits; None (and a warning) if it cannot be made."""
        path = self.root / name
        try:
            path.mkdir(exist_ok=True)
            if math.isfinite(grant.memory_gb):
                (path / "memory.max").write_text(str(int(grant.memory_gb * 1024**3)))
                swap = path / "memory.swap.max"
                if swap.exists():
                    swap.write_text("0")
            if math.isfinite(grant.cpus):
                quota = max(int(grant.cpus * CPU_PERIOD_US), 1000)
                (path / "cpu.max").write_text(f"{quota} {CPU_PERIOD_US}")
        except OSError as exc:
            log.warning("cgroup %s could not be set up (%s): its limits are advisory", path, exc)
            return None
        return path

    @staticmethod
    def wrap(path: Path, argv: tuple[str, ...]) -> tuple[str, ...]:
        return ("/bin/sh", "-c", _JOIN, str(path), *argv)


def oom_killed(path: Path) -> bool:
    """Whether the OOM killer killed a process in this cgroup (memory.events' oom_kill)."""
    try:
        for line in (path / "memory.events").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value) > 0
    except (OSError, ValueError):
        pass
    return False


def remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.rmdir()
