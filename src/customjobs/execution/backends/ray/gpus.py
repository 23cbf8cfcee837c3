"""Which of a Ray node's GPUs each replica on it gets: the node agent's ledger.

A replica used to be an actor of its own, and Ray set CUDA_VISIBLE_DEVICES from what it
gave that actor. The replicas now live in one node agent (agent.py) that asks Ray for no
GPU, so the agent hands them out itself: the placement group still reserves the GPUs in
Ray (their count is taken from what other Ray work can get), and the ledger gives each
replica as many of the node's devices as its bundle reserved, never one device to two
replicas, and takes them back when the replica is dropped. Which device ids Ray itself
gives other work on the node is Ray's choice, not the ledger's: a node whose GPUs are
shared with Ray work outside customjobs could see one device used by both.

The node's devices are those Ray numbers for its workers: the first N entries of the
CUDA_VISIBLE_DEVICES the node was started with (N = its GPU resource), else 0..N-1.
"""

from __future__ import annotations

CUDA_VISIBLE_DEVICES = "CUDA_VISIBLE_DEVICES"


class GpusTaken(Exception):
    """A replica asks for more GPUs than the node has free: the ledger and Ray disagree."""


def node_gpu_ids(count: int, visible: str | None) -> list[str]:
    """The node's device ids: `count` from its GPU resource, `visible` its CUDA_VISIBLE_DEVICES."""
    listed = [d.strip() for d in (visible or "").split(",") if d.strip()]
    if visible is not None and listed:
        return listed[:count]
    return [str(i) for i in range(count)]


class GpuLedger:
    def __init__(self, ids: list[str]) -> None:
        self._ids = list(ids)
        self._held: dict[str, list[str]] = {}

    def take(self, key: str, count: int) -> list[str]:
        """`count` free devices for replica `key` (the same ones again if it holds some)."""
        if key in self._held:
            return list(self._held[key])
        if count <= 0:
            return []
        free = self.free()
        if len(free) < count:
            raise GpusTaken(
                f"the replica needs {count} GPU(s) on this node and {len(free)} of its "
                f"{len(self._ids)} are free ({self._holders()})"
            )
        self._held[key] = free[:count]
        return list(self._held[key])

    def give_back(self, key: str) -> None:
        self._held.pop(key, None)

    def free(self) -> list[str]:
        held = {d for ids in self._held.values() for d in ids}
        return [d for d in self._ids if d not in held]

    def _holders(self) -> str:
        return "; ".join(f"{k}: {','.join(v)}" for k, v in sorted(self._held.items())) or "none held"
