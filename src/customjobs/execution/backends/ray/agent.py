"""One customjobs agent per Ray node: a warm process that hosts the replicas Ray placed there.

An actor per replica cost each job a fresh Ray worker process (about a second before the
replica could start). The agent is one detached named actor per node (`agent_name`),
pinned to its node and asking Ray for no resources, started when the backend starts (and
for a node first seen later), so a job pays none of that: the job's placement group
still reserves each replica's CPU, memory and GPUs in Ray, and the agent only runs what
the group reserved. Each replica is a plain `ReplicaHost` (replica.py) inside the agent,
keyed by the name its actor used to have (backend.actor_name); the backend reaches it
with `call(key, method, *args)`, so a new ReplicaHost method needs no change here.

The agent is a threaded actor: a replica's slow start (a package environment being built)
or a shell read that waits does not hold up the polls of other replicas on the node.
Every replica's keeper watches the agent's pid, so when the agent dies (its node died, or
it was killed) every replica it hosted is taken down with it, and the backend, whose
calls then fail with RayActorError, reports each of them LOST with its node.

GPUs: the agent asks Ray for none, so it hands the node's devices out itself (gpus.py),
as many to each replica as its bundle reserved.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from customjobs.execution.backends.ray.gpus import CUDA_VISIBLE_DEVICES, GpuLedger, node_gpu_ids
from customjobs.execution.backends.ray.replica import Placement, ReplicaHost

AGENT_PREFIX = "customjobs-agent-"
# Calls the agent runs at once. Each running replica's poll waits on the node (up to
# backend.LONG_POLL_S) and so does an open shell's read: beyond this many, calls queue.
AGENT_THREADS = 256


def agent_name(node_id: str) -> str:
    """The agent of a Ray node; 16 hex digits of the node id are unique in a cluster."""
    return f"{AGENT_PREFIX}{node_id[:16]}"


class UnknownReplica(LookupError):
    """The agent hosts no replica by that key (a new agent on a node whose old one died)."""


class NodeAgent:
    def __init__(self) -> None:
        import ray  # only ever constructed inside a Ray worker

        self._node_id = ray.get_runtime_context().get_node_id()
        self._lock = threading.Lock()
        self._hosts: dict[str, ReplicaHost] = {}
        # Asked for no GPU, Ray leaves the node's own CUDA_VISIBLE_DEVICES to the agent.
        self._gpus = GpuLedger(node_gpu_ids(_node_gpus(self._node_id), os.environ.get(CUDA_VISIBLE_DEVICES)))

    def ping(self) -> str:
        """Answered once the agent is up: the backend warms agents with it."""
        return self._node_id

    def open(
        self, key: str, replica: str, node_root: str, job_id: int, attempt: int, gpus: int = 0
    ) -> Placement:
        """Host replica `key` here (again the same one when it already is), with `gpus` of
        the node's devices; where it is, as the node sees it."""
        with self._lock:
            host = self._hosts.get(key)
            if host is None:
                devices = self._gpus.take(key, gpus)
                try:
                    host = ReplicaHost(replica, node_root, job_id, attempt, gpu_ids=devices)
                except BaseException:
                    self._gpus.give_back(key)
                    raise
                self._hosts[key] = host
        return host.placement()

    def call(self, key: str, method: str, *args: Any) -> Any:
        """`ReplicaHost.method(*args)` of replica `key`."""
        host = self._hosts.get(key)
        if host is None:
            raise UnknownReplica(f"no replica {key} on this node's customjobs agent")
        return getattr(host, method)(*args)

    def drop(self, key: str) -> None:
        """Forget replica `key` and give its GPUs back. Whatever of it still runs is killed
        first: the keeper watches the agent, which stays, so nothing else would end it."""
        with self._lock:
            host = self._hosts.pop(key, None)
            self._gpus.give_back(key)
        if host is not None:
            host.close()

    def keys(self) -> list[str]:
        """The replicas hosted here now."""
        return sorted(self._hosts)


def _node_gpus(node_id: str) -> int:
    import ray

    for node in ray.nodes():  # type: ignore[no-untyped-call]
        if node["NodeID"] == node_id:
            return int(node.get("Resources", {}).get("GPU", 0))
    return 0
