"""Where a job stands with the machine: its priority, what it was given, why it waits.

An allocation is what the scheduler granted a job when it admitted it: for each replica
its vCPUs, memory and GPU device indices, and notes on anything left out of what it
asked for. It is stored with the job from admission until the job ends, so a restarted
server (or a peer taking over the scheduler lease) knows which GPUs are in use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The label that orders the queue: an integer, higher first; jobs without it have 0.
PRIORITY_LABEL = "customjobs-priority"
_INTEGER = re.compile(r"-?[0-9]+")


def is_priority(value: str) -> bool:
    return bool(_INTEGER.fullmatch(value))


def job_priority(labels: Mapping[str, str]) -> int:
    value = labels.get(PRIORITY_LABEL, "")
    return int(value) if is_priority(value) else 0


@dataclass(frozen=True)
class ReplicaAllocation:
    """What one replica got: its limits, its GPUs (device indices), and what was left out."""

    name: str
    cpus: float
    memory_gb: float
    gpu_type: str = ""
    gpu_indices: tuple[int, ...] = ()
    # Lenient mode: each says what was asked for and what the replica got instead.
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "cpus": self.cpus, "memoryGb": self.memory_gb}
        if self.gpu_type:
            data["gpuType"] = self.gpu_type
            data["gpuIndices"] = list(self.gpu_indices)
        if self.notes:
            data["notes"] = list(self.notes)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReplicaAllocation:
        return cls(
            name=str(data["name"]),
            cpus=float(data["cpus"]),
            memory_gb=float(data["memoryGb"]),
            gpu_type=str(data.get("gpuType", "")),
            gpu_indices=tuple(int(i) for i in data.get("gpuIndices", ())),
            notes=tuple(str(n) for n in data.get("notes", ())),
        )


@dataclass(frozen=True)
class JobAllocation:
    """A whole job's grant. `cpus` and `memory_gb` are what it holds of the machine: the sum of
    its replicas' limits, or the whole machine for a job larger than the machine (lenient)."""

    cpus: float
    memory_gb: float
    replicas: tuple[ReplicaAllocation, ...]

    def replica(self, name: str) -> ReplicaAllocation | None:
        return next((r for r in self.replicas if r.name == name), None)

    def gpu_indices(self) -> dict[str, set[int]]:
        used: dict[str, set[int]] = {}
        for replica in self.replicas:
            if replica.gpu_type:
                used.setdefault(replica.gpu_type, set()).update(replica.gpu_indices)
        return used

    def to_dict(self) -> dict[str, Any]:
        return {
            "cpus": self.cpus,
            "memoryGb": self.memory_gb,
            "replicas": [r.to_dict() for r in self.replicas],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobAllocation:
        return cls(
            cpus=float(data["cpus"]),
            memory_gb=float(data["memoryGb"]),
            replicas=tuple(ReplicaAllocation.from_dict(r) for r in data.get("replicas", ())),
        )


@dataclass(frozen=True)
class QueueStatus:
    """Why a queued job waits, and its place in line (1 = next to be considered)."""

    reason: str
    position: int
