"""What a job asks for and what the machine has, and whether one fits the other.

Two modes. Lenient (a laptop, the default): a job larger than the machine is clamped to
the whole machine and runs alone, and accelerators the machine lacks are left out, so
real Vertex specs still run. A replica whose accelerators were left out gets a note, the
first line of its log, saying exactly what it asked for and what it got (vCPU and memory
clamps included); a clamp of vCPUs or memory alone changes nothing a program can see but
speed, so it is said once in the server's log rather than in every replica's. Strict (a
shared server): requests are accounted exactly, and a job that can never fit is refused
at create.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from customjobs.domain.machines import machine_type
from customjobs.domain.spec import LaunchSpec, PoolSpec

# What a replica of an unknown machine type is accounted as (validation refuses those at create).
_FALLBACK_CPUS = 1.0
_FALLBACK_MEMORY_GB = 1.0
_EPSILON = 1e-9


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

    def meet(self, other: Resources) -> Resources:
        """The least of both in every resource: what each of two jobs needs at least."""
        gpus = {kind: min(count, other.gpus[kind]) for kind, count in self.gpus.items() if kind in other.gpus}
        return Resources(min(self.cpus, other.cpus), min(self.memory_gb, other.memory_gb), gpus)

    def covers(self, need: Resources) -> bool:
        return not self.short_of(need)

    def short_of(self, need: Resources) -> list[str]:
        """The kinds of resource `need` has more of than this, e.g. ['vCPUs', 'NVIDIA_TESLA_T4']."""
        return [kind for kind, amount in need.amounts().items() if exceeds(amount, self.amount(kind))]

    def amounts(self) -> dict[str, float]:
        """Each kind of resource and how much: 'vCPUs', 'memory', then GPU kinds by name."""
        return {"vCPUs": self.cpus, "memory": self.memory_gb, **dict(sorted(self.gpus.items()))}

    def amount(self, kind: str) -> float:
        """How much of one kind of resource (as `amounts` names it)."""
        if kind == "vCPUs":
            return self.cpus
        return self.memory_gb if kind == "memory" else self.gpus.get(kind, 0)

    def shortfall(self, need: Resources) -> list[str]:
        """What is missing for `need`, in words, e.g. ['2 vCPUs', '1 NVIDIA_TESLA_T4']."""
        missing = []
        if need.cpus > self.cpus + _EPSILON:
            missing.append(_vcpus(need.cpus - self.cpus))
        if need.memory_gb > self.memory_gb + _EPSILON:
            missing.append(f"{_num(need.memory_gb - self.memory_gb)} GB of memory")
        for kind, count in sorted(need.gpus.items()):
            have = self.gpus.get(kind, 0)
            if count > have:
                missing.append(f"{count - have} {kind}")
        return missing

    def describe(self, say_no_gpu: bool = False) -> str:
        """'4 vCPUs, 15 GB of memory, 1 NVIDIA_TESLA_T4' (or '... and no GPU' when asked)."""
        parts = [_vcpus(self.cpus), f"{_num(self.memory_gb)} GB of memory"]
        gpus = [f"{count} {kind}" for kind, count in sorted(self.gpus.items()) if count]
        if gpus or not say_no_gpu:
            return ", ".join(parts + gpus)
        return ", ".join(parts) + " and no GPU"


def exceeds(need: float, have: float) -> bool:
    """Whether `need` is more than `have`, past rounding: what `Resources.short_of` counts."""
    return need > have + _EPSILON


def _num(value: float) -> str:
    return "unlimited" if math.isinf(value) else f"{round(value, 2):g}"


def _vcpus(value: float) -> str:
    return f"{_num(value)} vCPU" + ("" if value == 1 else "s")


@dataclass(frozen=True)
class Capacity:
    """What this server may hand out: vCPUs, memory, and GPU device indices by Vertex type."""

    cpus: float
    memory_gb: float
    gpu_devices: dict[str, tuple[int, ...]] = field(default_factory=dict)
    strict: bool = False
    max_jobs_per_project: int | None = None

    @property
    def total(self) -> Resources:
        return Resources(self.cpus, self.memory_gb, {k: len(v) for k, v in self.gpu_devices.items() if v})

    @classmethod
    def unlimited(cls) -> Capacity:
        """No accounting at all (a scheduler built without a capacity, as in unit tests)."""
        return cls(math.inf, math.inf)

    def describe(self) -> str:
        mode = "strict" if self.strict else "lenient"
        return f"{self.total.describe()} ({mode} capacity)"


@dataclass(frozen=True)
class ReplicaShape:
    """One replica as the machine will run it: its limits and GPUs, and a note when that
    differs from what it asked for."""

    name: str
    cpus: float
    memory_gb: float
    gpu_type: str = ""
    gpu_count: int = 0
    note: str | None = None


@dataclass(frozen=True)
class JobShape:
    """A job as admission sees it: `need` is what it holds while it runs (the whole machine
    for a job that runs alone), `asked` what its machine specs add up to."""

    replicas: tuple[ReplicaShape, ...]
    need: Resources
    asked: Resources
    runs_alone: bool = False


def replica_request(pool: PoolSpec) -> Resources:
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


def job_shape(spec: LaunchSpec, capacity: Capacity) -> JobShape:
    """Exact in strict mode; clamped to the machine, with notes, in lenient mode."""
    asks = [(pool, name, replica_request(pool)) for pool in spec.pools for name in pool.replica_names()]
    asked = Resources()
    for _, _, ask in asks:
        asked = asked + ask
    if capacity.strict:
        return JobShape(tuple(_exact(name, ask) for _, name, ask in asks), asked, asked)
    total = capacity.total
    runs_alone = asked.cpus > total.cpus + _EPSILON or asked.memory_gb > total.memory_gb + _EPSILON
    gpus_left = dict(total.gpus)
    replicas: list[ReplicaShape] = []
    granted_gpus: dict[str, int] = {}
    for pool, name, ask in asks:
        replica = _clamped(name, pool.machine_type, ask, total, gpus_left, runs_alone, asked)
        replicas.append(replica)
        if replica.gpu_count:
            granted_gpus[replica.gpu_type] = granted_gpus.get(replica.gpu_type, 0) + replica.gpu_count
    if runs_alone:
        need = Resources(total.cpus, total.memory_gb, granted_gpus)
    else:
        need = Resources(asked.cpus, asked.memory_gb, granted_gpus)
    return JobShape(tuple(replicas), need, asked, runs_alone)


def never_fits(shape: JobShape, capacity: Capacity) -> str | None:
    """Strict mode: why the job could never start on this server; None when it could."""
    total = capacity.total
    missing = total.shortfall(shape.need)
    if not capacity.strict or not missing:
        return None
    return (
        f"The job needs {shape.need.describe()} at once, more than this server has "
        f"({total.describe()}): it is short of {', '.join(missing)} and could never start here "
        "(the server runs with --strict-capacity)."
    )


def _exact(name: str, ask: Resources) -> ReplicaShape:
    ((kind, count),) = ask.gpus.items() if ask.gpus else (("", 0),)
    return ReplicaShape(name, ask.cpus, ask.memory_gb, kind, count)


def _clamped(
    name: str,
    machine: str,
    ask: Resources,
    total: Resources,
    gpus_left: dict[str, int],
    runs_alone: bool,
    job_asked: Resources,
) -> ReplicaShape:
    """One replica in lenient mode; `gpus_left` counts the machine's GPUs not yet given to
    the job's earlier replicas."""
    details = []
    cpus, memory = min(ask.cpus, total.cpus), min(ask.memory_gb, total.memory_gb)
    capped = []
    if cpus < ask.cpus:
        capped.append(f"{_num(ask.cpus)} -> {_num(cpus)} vCPUs")
    if memory < ask.memory_gb:
        capped.append(f"{_num(ask.memory_gb)} -> {_num(memory)} GB of memory")
    if capped:
        details.append(f"Capped to this machine: {', '.join(capped)}.")
    kind, count, given = "", 0, 0
    if ask.gpus:
        ((kind, count),) = ask.gpus.items()
        given = min(count, gpus_left.get(kind, 0))
        gpus_left[kind] = gpus_left.get(kind, 0) - given
        if given < count:
            has = total.gpus.get(kind, 0)
            why = (
                "this machine has none"
                if has == 0
                else f"this machine has {has}, the rest went to other replicas"
            )
            details.append(f"Left out: {count - given} {kind} ({why}).")
    if runs_alone:
        details.append(
            f"The job asks for {job_asked.describe()} in all, more than this machine has "
            f"({total.describe()}): it runs alone."
        )
    note = None
    if given < count:
        got = Resources(cpus, memory, {kind: given} if given else {})
        note = (
            f"[customjobs] {name} asked for {machine}: {ask.describe()}; "
            f"it got {got.describe(say_no_gpu=bool(ask.gpus))}. "
            + " ".join(details)
            + " (lenient capacity; --strict-capacity accounts exactly)"
        )
    return ReplicaShape(name, cpus, memory, kind if given else "", given, note)
