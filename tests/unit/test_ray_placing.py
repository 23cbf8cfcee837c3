"""What a waiting gang's reason says the Ray cluster lacks, from what each node has free."""

from __future__ import annotations

from customjobs.execution.backends.ray.cluster import Bundle
from customjobs.execution.backends.ray.placing import waiting_reason

GB = 1024**3
FOUR = Bundle(4.0, 15 * GB)


def node(cpus: float, memory_gb: float = 32, gpus: float = 0) -> dict[str, float]:
    free = {"CPU": cpus, "memory": memory_gb * GB}
    return {**free, "GPU": gpus} if gpus else free


def test_a_replica_no_node_has_room_for_names_the_short_kind() -> None:
    reason = waiting_reason([FOUR, FOUR], "SPREAD", [node(2), node(2)])
    assert reason == (
        "Waiting for the Ray cluster to place the job's 2 replicas (4 CPU, 15 GB of memory each; "
        "SPREAD): no node has the CPUs free that a replica needs at once."
    )
    gpu = waiting_reason([Bundle(1.0, GB, 1)], "SPREAD", [node(8), node(8)])
    assert "the job's replica (1 CPU, 1 GB of memory, 1 GPU)" in gpu
    assert "no node has the GPUs free" in gpu
    both = waiting_reason([FOUR], "PACK", [node(2, memory_gb=8)])
    assert "no node has the CPUs and memory free" in both


def test_strict_spread_counts_the_nodes_with_room_for_a_replica() -> None:
    reason = waiting_reason([FOUR, FOUR, FOUR], "STRICT_SPREAD", [node(8), node(8)])
    assert reason.endswith("every replica needs a node of its own, and 2 of the nodes have room for one now.")


def test_strict_pack_needs_the_whole_gang_on_one_node() -> None:
    reason = waiting_reason([FOUR, FOUR], "STRICT_PACK", [node(6), node(6)])
    assert reason.endswith("no node has the whole gang's resources free.")


def test_room_spread_too_thin_for_every_replica_at_once() -> None:
    reason = waiting_reason([FOUR, FOUR], "PACK", [node(5), node(3)])
    assert reason.endswith("not every replica fits at once.")
    mixed = waiting_reason([FOUR, Bundle(1.0, GB)], "SPREAD", [node(5), node(3)])
    assert "(4 CPU, 15 GB of memory; 1 CPU, 1 GB of memory; SPREAD)" in mixed
