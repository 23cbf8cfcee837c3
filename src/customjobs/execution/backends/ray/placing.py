"""Placement groups that never block the scheduler: create, look again later, say why not yet.

`RayBackend.place` asks this module on every scheduler pass while a gang waits. The first
ask creates the attempt's detached placement group (named by job and attempt, so a second
ask, a restarted bridge or a restarted server finds the same group instead of adding one);
later asks only read its state from the GCS, with no task and no worker. While the group is
pending, the job waits QUEUED with the reason `waiting_reason` gives: what the cluster lacks
for the gang now, in stable words (kinds of resource, not amounts free this second), so the
stored reason changes only when what the gang waits for changes.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from ray.util.placement_group import (
    get_placement_group,
    placement_group,
    placement_group_table,
    remove_placement_group,
)

from customjobs.execution.backends.ray.cluster import Bundle

# Ray's states of a placement group (placement_group_table's "state").
CREATED = "CREATED"
REMOVED = "REMOVED"


class GroupWaits:
    """The placement groups this process created or found, and since when each has waited."""

    def __init__(self, strategy: str) -> None:
        self.strategy = strategy
        self._since: dict[str, float] = {}

    def group(self, name: str, bundles: list[Bundle]) -> Any:
        """The named group, created (detached) if it does not exist or was removed."""
        found = _existing(name)
        if found is None:
            found = placement_group(
                [b.resources for b in bundles], strategy=self.strategy, name=name, lifetime="detached"
            )
        self._since.setdefault(name, time.monotonic())
        return found

    def ready(self, group: Any) -> bool:
        """Placed: every bundle is reserved on its node. A GCS read; it never waits."""
        return _state(group) == CREATED

    def waited_s(self, name: str) -> float:
        return time.monotonic() - self._since.get(name, time.monotonic())

    def placed(self, name: str) -> None:
        self._since.pop(name, None)

    def remove(self, name: str) -> None:
        self._since.pop(name, None)
        group = _existing(name)
        if group is not None:
            with contextlib.suppress(ValueError):  # removed meanwhile
                remove_placement_group(group)


def waiting_reason(bundles: list[Bundle], strategy: str, free: list[dict[str, float]]) -> str:
    """Why the gang is not placed, from what each live node has free now."""
    asked = _describe(bundles)
    head = f"Waiting for the Ray cluster to place the job's replica ({asked})"
    if len(bundles) > 1:
        head = f"Waiting for the Ray cluster to place the job's {len(bundles)} replicas ({asked}; {strategy})"
    return f"{head}: {_lacks(bundles, strategy, free)}."


def _lacks(bundles: list[Bundle], strategy: str, free: list[dict[str, float]]) -> str:
    for bundle in bundles:
        if not any(_holds(node, bundle) for node in free):
            kinds = [k for k, v in bundle.resources.items() if not any(n.get(k, 0.0) >= v for n in free)]
            named = _names(kinds) or "the resources it needs"
            return f"no node has the {named} free that a replica needs at once"
    if strategy == "STRICT_SPREAD":
        able = sum(1 for node in free if any(_holds(node, b) for b in bundles))
        if able < len(bundles):
            return f"every replica needs a node of its own, and {able} of the nodes have room for one now"
    if strategy == "STRICT_PACK":
        whole = _sum(bundles)
        if not any(_holds(node, whole) for node in free):
            return "every replica must share one node, and no node has the whole gang's resources free"
    return "what is free is spread over the nodes so that not every replica fits at once"


def free_per_node() -> list[dict[str, float]]:
    """Each live node's free resources, as Ray's GCS reports them now."""
    from ray._private import state  # the per-node view has no public API in Ray 2.x

    return [dict(resources) for resources in state.available_resources_per_node().values()]  # type: ignore[no-untyped-call]


def _holds(free: dict[str, float], bundle: Bundle) -> bool:
    return all(free.get(kind, 0.0) >= amount for kind, amount in bundle.resources.items())


def _sum(bundles: list[Bundle]) -> Bundle:
    return Bundle(
        sum(b.cpus for b in bundles), sum(b.memory_bytes for b in bundles), sum(b.gpus for b in bundles)
    )


def _describe(bundles: list[Bundle]) -> str:
    words = [b.describe() for b in bundles]
    if len(set(words)) == 1:
        return words[0] + (" each" if len(words) > 1 else "")
    return "; ".join(words)


def _names(kinds: list[str]) -> str:
    named = [{"CPU": "CPUs", "GPU": "GPUs"}.get(k, k) for k in kinds]
    return ", ".join(named[:-1]) + f" and {named[-1]}" if len(named) > 1 else "".join(named)


def _existing(name: str) -> Any | None:
    try:
        group = get_placement_group(name)
    except ValueError:
        return None
    return None if _state(group) == REMOVED else group


def _state(group: Any) -> str | None:
    table: dict[str, Any] = placement_group_table(group)
    state = table.get("state")
    return str(state) if state is not None else None
