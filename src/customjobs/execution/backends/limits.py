"""A replica's grant made real: its GPUs, its CPU and memory limits, and its log's first line.

The scheduler decides what each replica gets (domain/placement.py); backends apply it
through these helpers, so the process and container backends agree on what a grant means:
- GPUs: a host process sees exactly its devices through CUDA_VISIBLE_DEVICES (an empty
  value for a replica without accelerators: no GPU at all); a container gets only its
  devices from the runtime (`--device nvidia.com/gpu=N` for podman's CDI, `--gpus` for
  docker), which numbers them from 0 inside.
- Limits: containers get `--cpus` and `--memory`; host processes get a cgroup when the
  server has one to write (cgroups.py), else the limits are advisory.
- Notes: in lenient mode, what a replica asked for and what it got is written at the top of
  its log before it starts.
"""

from __future__ import annotations

import math
import os

from customjobs.domain.placement import ReplicaAllocation
from customjobs.execution.backends.base import LaunchRequest

CUDA_VISIBLE_DEVICES = "CUDA_VISIBLE_DEVICES"
_MIB_PER_GIB = 1024


def write_notes(request: LaunchRequest) -> None:
    """Each replica's notes, first in its log (the replica appends after them)."""
    if request.allocation is None:
        return
    request.workdir.mkdir(parents=True, exist_ok=True)
    for replica in request.allocation.replicas:
        if replica.notes:
            with open(request.log_path(replica.name), "a", encoding="utf-8") as log:
                log.writelines(note + "\n" for note in replica.notes)


def process_gpu_env(grant: ReplicaAllocation | None) -> dict[str, str]:
    """CUDA_VISIBLE_DEVICES for a host process: its device indices, or "" for none."""
    if grant is None:
        return {}
    return {CUDA_VISIBLE_DEVICES: ",".join(str(i) for i in grant.gpu_indices)}


def container_gpu_env(grant: ReplicaAllocation | None) -> dict[str, str]:
    """Inside a container the runtime exposes only the replica's devices; one without any
    gets CUDA_VISIBLE_DEVICES="" too, so a `--gpus all` in the run flags cannot leak GPUs."""
    if grant is None or grant.gpu_indices:
        return {}
    return {CUDA_VISIBLE_DEVICES: ""}


def container_flags(flavour: str, grant: ReplicaAllocation | None) -> list[str]:
    """`run` flags for the replica's limits and GPUs (placed before the user's run flags)."""
    if grant is None:
        return []
    flags = []
    cpus = min(grant.cpus, float(os.cpu_count() or 1))
    if math.isfinite(cpus) and cpus > 0:
        flags.append(f"--cpus={round(cpus, 2):g}")
    if math.isfinite(grant.memory_gb) and grant.memory_gb > 0:
        flags.append(f"--memory={memory_mib(grant.memory_gb)}m")
    if grant.gpu_indices:
        flags += gpu_flags(flavour, grant.gpu_indices)
    return flags


def gpu_flags(flavour: str, indices: tuple[int, ...]) -> list[str]:
    if flavour == "docker":
        devices = ",".join(str(i) for i in indices)
        # Docker parses --gpus as CSV: several devices need the quotes inside the value.
        return ["--gpus", f"device={devices}" if len(indices) == 1 else f'"device={devices}"']
    flags = []
    for index in indices:
        flags += ["--device", f"nvidia.com/gpu={index}"]
    return flags


def memory_mib(memory_gb: float) -> int:
    return max(int(memory_gb * _MIB_PER_GIB), 6)
