"""The ExecutionBackend protocol: start a job's replicas, report facts, stop them.

Backends report facts (running, exited with N, lost) and never decide a job's state:
the scheduler turns facts into states. A handle is plain JSON, stored with the job, so a
restarted server re-attaches to replicas that kept running.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from customjobs.domain.placement import JobAllocation, ReplicaAllocation
from customjobs.domain.spec import LaunchSpec

Handle = dict[str, Any]


class ReplicaStatus(StrEnum):
    RUNNING = "running"
    EXITED = "exited"
    LOST = "lost"


@dataclass(frozen=True)
class ReplicaFact:
    name: str
    status: ReplicaStatus
    exit_code: int | None = None
    detail: str | None = None
    # The replica was killed for exceeding its memory limit (cgroup or container runtime).
    oom_killed: bool = False


@dataclass(frozen=True)
class LaunchRequest:
    job_id: int
    project: str
    attempt: int
    spec: LaunchSpec
    # A directory of this attempt's own: backends keep their files here, logs included.
    workdir: Path
    # What the scheduler granted each replica (limits, GPU indices); None: no accounting.
    allocation: JobAllocation | None = None

    def log_path(self, replica: str) -> Path:
        return self.workdir / f"{replica}.log"

    def grant(self, replica: str) -> ReplicaAllocation | None:
        return self.allocation.replica(replica) if self.allocation is not None else None


class BackendUnavailable(ValueError):
    """The backend asked for cannot be used (unknown, not installed, cluster unreachable); for the user."""


class LaunchError(Exception):
    """The job cannot be started as specified; the message is for the user."""


# Set (to a token of the shell's own) in an interactive shell's environment, so that closing
# the shell can find and end every process it started, inside a container too (webaccess/).
SHELL_SESSION_ENV = "CUSTOMJOBS_SHELL_SESSION"


class ShellCommand(NamedTuple):
    """How to start an interactive shell inside one running replica (its env and directory)."""

    argv: tuple[str, ...]
    env: dict[str, str]
    cwd: Path | None


class ShellUnavailable(Exception):
    """No shell can be opened into that replica now (unknown, or not running); for the user."""


def dashboard_port(handle: Handle) -> int | None:
    """The port the primary replica's dashboard listens on (AIP_HTTP_HANDLER_PORT), if any."""
    port = handle.get("dashboard_port")
    return int(port) if port else None


def dashboard_host(handle: Handle) -> str:
    """Where that port is: the primary's node on a cluster (Ray), else this machine's loopback."""
    return str(handle.get("dashboard_host") or "127.0.0.1")


class ExecutionBackend(Protocol):
    name: str

    def place(self, request: LaunchRequest) -> str | None:
        """Reserve what the request's replicas need without waiting: None once they can start
        at once (start will not wait), or why they cannot yet (the job waits QUEUED with that
        reason and is asked again on a later pass). Raise LaunchError when they never will.
        Backends whose admission is exact (the local machine's) always return None."""
        ...

    def unplace(self, job_id: int, attempt: int) -> None:
        """That attempt of the job will not start (cancelled, expired, lost a race): drop
        what `place` reserved for it, if anything."""
        ...

    def start(self, request: LaunchRequest) -> Handle:
        """Start every replica; return once all have started (or raise LaunchError)."""
        ...

    def poll(self, handle: Handle) -> list[ReplicaFact]: ...

    def stop(self, handle: Handle, force: bool) -> None:
        """Ask every live replica to stop (SIGTERM-like), or kill it outright when `force`."""
        ...

    def all_stopped(self, handle: Handle) -> bool:
        """True once no process of any replica is left."""
        ...

    def reattach(self, request: LaunchRequest, names: list[str]) -> Handle | None:
        """The replicas a launch interrupted by a server crash did start, or None if none did."""
        ...

    def release(self, handle: Handle) -> None:
        """The job has ended and every replica is gone: drop what the backend held for it."""
        ...

    def shell_command(self, handle: Handle, replica: str) -> ShellCommand:
        """An interactive shell in that running replica's environment (raise ShellUnavailable)."""
        ...

    def close(self) -> None: ...
