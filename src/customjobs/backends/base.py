"""The ExecutionBackend protocol: start a job's replicas, report facts, stop them.

Backends report facts (running, exited with N, lost) and never decide a job's state:
the scheduler turns facts into states. A handle is plain JSON, stored with the job, so a
restarted server re-attaches to replicas that kept running.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

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


@dataclass(frozen=True)
class LaunchRequest:
    job_id: int
    project: str
    attempt: int
    spec: LaunchSpec
    # A directory of this attempt's own: backends keep their files here, logs included.
    workdir: Path

    def log_path(self, replica: str) -> Path:
        return self.workdir / f"{replica}.log"


class LaunchError(Exception):
    """The job cannot be started as specified; the message is for the user."""


class ExecutionBackend(Protocol):
    name: str

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

    def close(self) -> None: ...
