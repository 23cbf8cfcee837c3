"""What a job asks for and what the machine has, and whether one fits the other.

Two modes. Lenient (a laptop): a request larger than the machine is clamped to the
whole machine, and accelerators the machine lacks are left out, so real Vertex specs
still run. Strict (a shared server): requests are accounted exactly, and a job that can
never fit is refused at create.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from customjobs.domain.machines import machine_type
from customjobs.domain.spec import LaunchSpec, PoolSpec

# What a replica of an unknown machine type is accounted as (validation refuses those at create).
_FALLBACK_CPUS = 1.0
_FALLBACK_MEMORY_GB = 1.0


@dataclass(frozen=True)
class Resources:
    cpus: float = 0.0
    memory_gb: float = 0.0
    gpus: dict[str, int] = field(default_factory=dict)

    def __add__(self, other: Resources) -> Resources:
        gpus = dict(self.gpus)
        for kind, count in other.gpus.items():
            gpus[kind] = gpus.get(kind, 0) + count
        return Resources(self.cpus + other.cpus, self.memory_gb + other.memory_gb, gpus)

    def __sub__(self, other: Resources) -> Resources:
        gpus = dict(self.gpus)
        for kind, count in other.gpus.items():
            gpus[kind] = gpus.get(kind, 0) - count
        return Resources(self.cpus - other.cpus, self.memory_gb - other.memory_gb, gpus)

    def covers(self, need: Resources) -> bool:
        return (
            need.cpus <= self.cpus + 1e-9
            and need.memory_gb <= self.memory_gb + 1e-9
            and all(count <= self.gpus.get(kind, 0) for kind, count in need.gpus.items() if count)
        )

    def shortfall(self, need: Resources) -> list[str]:
        """What is missing for `need`, in words, e.g. ['2 vCPUs', '1 NVIDIA_TESLA_T4']."""
        missing = []
        if need.cpus > self.cpus + 1e-9:
            missing.append(f"{need.cpus - self.cpus:g} vCPUs")
        if need.memory_gb > self.memory_gb + 1e-9:
            missing.append(f"{need.memory_gb - self.memory_gb:g} GB of memory")
        for kind, count in sorted(need.gpus.items()):
            have = self.gpus.get(kind, 0)
            if count > have:
                missing.append(f"{count - have} {kind}")
        return missing


def pool_request(pool: PoolSpec) -> Resources:
    """One replica of the pool, as its machine spec asks."""
    machine = machine_type(pool.machine_type)
    cpus = float(machine.vcpus) if machine else _FALLBACK_CPUS
    memory = machine.memory_gb if machine else _FALLBACK_MEMORY_GB
    gpus = (
        {pool.accelerator_type: pool.accelerator_count}
        if pool.accelerator_type and pool.accelerator_count
        else {}
    )
    return Resources(cpus, memory, gpus)


@dataclass(frozen=True)
class Grant:
    """What one replica gets, and in lenient mode what was left out of its request."""

    replica: str
    resources: Resources
    adjustments: tuple[str, ...] = ()


def grants(spec: LaunchSpec, total: Resources, strict: bool) -> list[Grant]:
    """Per-replica grants: exact in strict mode, clamped to the machine in lenient mode."""
    result = []
    for pool in spec.pools:
        asked = pool_request(pool)
        for name in pool.replica_names():
            if strict:
                result.append(Grant(name, asked))
            else:
                result.append(_clamped(name, asked, total))
    return result


def _clamped(name: str, asked: Resources, total: Resources) -> Grant:
    notes = []
    cpus, memory = asked.cpus, asked.memory_gb
    if cpus > total.cpus:
        notes.append(f"{asked.cpus:g} vCPUs asked, {total.cpus:g} on this machine")
        cpus = total.cpus
    if memory > total.memory_gb:
        notes.append(f"{asked.memory_gb:g} GB asked, {total.memory_gb:g} GB on this machine")
        memory = total.memory_gb
    gpus = {}
    for kind, count in asked.gpus.items():
        have = total.gpus.get(kind, 0)
        if have < count:
            notes.append(
                f"{count} {kind} asked, {have} on this machine: left out"
                if have == 0
                else f"{count} {kind} asked, {have} given"
            )
        if have:
            gpus[kind] = min(count, have)
    return Grant(name, Resources(cpus, memory, gpus), tuple(notes))


def job_total(items: list[Grant]) -> Resources:
    total = Resources()
    for grant in items:
        total = total + grant.resources
    return total
