"""What the Ray cluster has, and what each replica asks of it (a placement-group bundle).

The scheduler's admission (execution/capacity.py) counts against the whole cluster's
vCPUs, memory and GPUs, so jobs queue in customjobs (with a reason and a position) rather
than inside Ray. A single replica still has to fit one node: in lenient mode a bundle
larger than every node is clamped to the largest one, as a job larger than the machine is
clamped on the local backends; in strict mode it is refused at launch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import ray

from customjobs.domain.machines import machine_type
from customjobs.domain.placement import ReplicaAllocation
from customjobs.domain.spec import PoolSpec
from customjobs.execution.host import accelerator_name

_GIB = 1024**3
# Ray advertises a node's GPU model as a resource `accelerator_type:<model>`.
_ACCELERATOR_PREFIX = "accelerator_type:"


# What a bundle of a job larger than the whole cluster asks for (lenient mode).
_TOKEN_CPU = 0.01


class ClusterTooSmall(Exception):
    """Strict mode: some replica fits no node of the cluster."""


@dataclass(frozen=True)
class Bundle:
    cpus: float
    memory_bytes: int
    gpus: int = 0

    @property
    def resources(self) -> dict[str, float]:
        out: dict[str, float] = {"CPU": self.cpus}
        if self.memory_bytes:
            out["memory"] = float(self.memory_bytes)
        if self.gpus:
            out["GPU"] = float(self.gpus)
        return out

    def describe(self) -> str:
        words = f"{self.cpus:g} CPU, {self.memory_bytes / _GIB:.3g} GB of memory"
        return words + (f", {self.gpus} GPU" if self.gpus else "")


def bundle_for(grant: ReplicaAllocation | None, pool: PoolSpec) -> Bundle:
    """The replica's grant from the scheduler, or (without one) its machine type's shape."""
    if grant is not None:
        gpus = len(grant.gpu_indices) if grant.gpu_type else 0
        return Bundle(grant.cpus, int(grant.memory_gb * _GIB), gpus)
    machine = machine_type(pool.machine_type)
    cpus = float(machine.vcpus) if machine else 1.0
    memory = machine.memory_gb if machine else 1.0
    return Bundle(cpus, int(memory * _GIB), pool.accelerator_count)


@dataclass(frozen=True)
class Node:
    node_id: str
    address: str
    alive: bool
    resources: dict[str, float]

    def holds(self, bundle: Bundle) -> bool:
        r = self.resources
        return (
            r.get("CPU", 0.0) >= bundle.cpus
            and r.get("memory", 0.0) >= bundle.memory_bytes
            and r.get("GPU", 0.0) >= bundle.gpus
        )


class ClusterView:
    """The cluster's nodes as Ray's GCS reports them, read fresh on every question."""

    def nodes(self) -> list[Node]:
        return [
            Node(n["NodeID"], n["NodeManagerAddress"], bool(n["Alive"]), dict(n.get("Resources", {})))
            for n in ray.nodes()  # type: ignore[no-untyped-call]
        ]

    def node(self, node_id: str) -> Node | None:
        return next((n for n in self.nodes() if n.node_id == node_id), None)

    def fit(self, bundles: list[Bundle], strict: bool) -> list[Bundle]:
        """The gang's bundles as they will be asked of Ray.

        Strict: as they are, each fitting some node (ClusterTooSmall otherwise). Lenient: each
        clamped to the largest node; and when the whole gang asks for more CPU or memory than
        the live nodes have together, every bundle asks only a token share (its GPUs stay), so
        the job runs alone on the cluster, as a job larger than the machine does locally.
        """
        alive = [n for n in self.nodes() if n.alive]
        if not alive:
            return bundles
        too_big = [b for b in bundles if not any(n.holds(b) for n in alive)]
        if strict:
            if too_big:
                raise ClusterTooSmall(
                    f"a replica needs {too_big[0].describe()}, more than any node of the Ray cluster "
                    f"has ({self.describe()})"
                )
            return bundles
        largest = max(alive, key=lambda n: (n.resources.get("CPU", 0.0), n.resources.get("memory", 0.0)))
        fitted = [_clamp(b, largest.resources) for b in bundles]
        cpus, memory_gb, _ = self.totals()
        if sum(b.cpus for b in fitted) > cpus or sum(b.memory_bytes for b in fitted) > memory_gb * _GIB:
            fitted = [replace(b, cpus=_TOKEN_CPU, memory_bytes=0) for b in fitted]
        return fitted

    def totals(self) -> tuple[float, float, dict[str, int]]:
        """vCPUs, GB of memory and GPUs by Vertex accelerator type, over the live nodes."""
        cpus = memory = 0.0
        gpus: dict[str, int] = {}
        for node in self.nodes():
            if not node.alive:
                continue
            cpus += node.resources.get("CPU", 0.0)
            memory += node.resources.get("memory", 0.0) / _GIB
            count = int(node.resources.get("GPU", 0.0))
            kind = _gpu_kind(node.resources)
            if count and kind:
                gpus[kind] = gpus.get(kind, 0) + count
        return cpus, round(memory, 2), gpus

    def describe(self) -> str:
        alive = [n for n in self.nodes() if n.alive]
        cpus, memory, gpus = self.totals()
        gpu_words = "".join(f", {count} {kind}" for kind, count in sorted(gpus.items()))
        return f"{len(alive)} nodes, {cpus:g} CPU, {memory:g} GB of memory{gpu_words}"


def _clamp(bundle: Bundle, resources: dict[str, float]) -> Bundle:
    return replace(
        bundle,
        cpus=min(bundle.cpus, resources.get("CPU", 0.0)),
        memory_bytes=min(bundle.memory_bytes, int(resources.get("memory", 0.0))),
        gpus=min(bundle.gpus, int(resources.get("GPU", 0.0))),
    )


def _gpu_kind(resources: dict[str, Any]) -> str | None:
    for key in resources:
        if key.startswith(_ACCELERATOR_PREFIX):
            return accelerator_name(key.removeprefix(_ACCELERATOR_PREFIX))
    return None
