"""The backend's handles on the node agents (agent.py): made warm, found again, forgotten.

An agent costs a Ray worker process to start (about a second), so the backend starts one
on every live node when it starts, and on a node it has not seen before at most every
WARM_INTERVAL_S later (a node that joined), rather than when a job first needs it. Starts
use `get_if_exists`: a second server, or a restarted bridge, gets the agent already
there. A handle whose agent died (its node died, or it was killed) is forgotten when a
call fails, so the next job on that node gets a new agent.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from customjobs.execution.backends.ray.agent import AGENT_THREADS, NodeAgent, agent_name
from customjobs.execution.backends.ray.cluster import ClusterView

log = logging.getLogger(__name__)

# How often the backend looks for nodes that have no agent yet.
WARM_INTERVAL_S = 30.0


class AgentPool:
    def __init__(self, cluster: ClusterView) -> None:
        self._cluster = cluster
        self._class: Any = ray.remote(NodeAgent)
        # Handles by actor name: agents, and (for handles stored by an older server) replica actors.
        self._handles: dict[str, Any] = {}
        self._warmed_at = 0.0

    def warm(self) -> None:
        """An agent on every live node that has none in this process's view yet."""
        self._warmed_at = time.monotonic()
        for node in self._cluster.nodes():
            if node.alive and agent_name(node.node_id) not in self._handles:
                self.for_node(node.node_id).ping.remote()  # its answer does not matter: it starts it

    def warm_now_and_then(self) -> None:
        if time.monotonic() - self._warmed_at >= WARM_INTERVAL_S:
            self.warm()

    def for_node(self, node_id: str) -> Any:
        """The node's agent, started there if it has none."""
        name = agent_name(node_id)
        handle = self._handles.get(name)
        if handle is None:
            handle = self._handles[name] = self._class.options(
                name=name,
                get_if_exists=True,
                lifetime="detached",
                max_restarts=0,
                max_concurrency=AGENT_THREADS,
                # It asks for nothing: the jobs' placement groups hold what their replicas use.
                num_cpus=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
            ).remote()
            log.debug("customjobs agent %s for Ray node %s", name, node_id)
        return handle

    def find(self, name: str) -> Any | None:
        """A live actor by name (an agent, or an older server's replica actor); None if gone."""
        handle = self._handles.get(name)
        if handle is None:
            try:
                handle = self._handles[name] = ray.get_actor(name)
            except ValueError:
                return None
        return handle

    def forget(self, name: str) -> None:
        """Its actor died: the next use looks it up (or starts it) again."""
        self._handles.pop(name, None)
