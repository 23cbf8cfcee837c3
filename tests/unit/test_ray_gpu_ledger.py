"""The node agent's GPU ledger (execution/backends/ray/gpus.py): what each replica on a Ray
node sees, consistent with what its bundle reserved, never one device to two replicas."""

from __future__ import annotations

import pytest

from customjobs.execution.backends.ray.gpus import GpuLedger, GpusTaken, node_gpu_ids


def test_the_nodes_devices_are_its_visible_ones_else_counted_from_zero() -> None:
    assert node_gpu_ids(4, None) == ["0", "1", "2", "3"]
    assert node_gpu_ids(2, "") == ["0", "1"]
    # Started with CUDA_VISIBLE_DEVICES: Ray numbers its workers' GPUs into that list.
    assert node_gpu_ids(2, "4,6") == ["4", "6"]
    assert node_gpu_ids(1, "4, 6") == ["4"]  # --num-gpus=1 on a node that sees two
    assert node_gpu_ids(0, "0,1") == []


def test_each_replica_gets_its_own_devices_and_gives_them_back() -> None:
    ledger = GpuLedger(["0", "1", "2", "3"])
    assert ledger.take("job-1-a", 2) == ["0", "1"]
    assert ledger.take("job-1-b", 1) == ["2"]
    assert ledger.take("job-1-c", 0) == []
    assert ledger.free() == ["3"]
    # Asked again (a retried open), the same devices: nothing more is taken.
    assert ledger.take("job-1-a", 2) == ["0", "1"]
    assert ledger.free() == ["3"]
    ledger.give_back("job-1-a")
    ledger.give_back("job-1-a")  # twice is harmless
    assert ledger.free() == ["0", "1", "3"]
    assert ledger.take("job-2-a", 3) == ["0", "1", "3"]
    assert ledger.free() == []


def test_more_than_is_free_is_refused_naming_who_holds_them() -> None:
    ledger = GpuLedger(["0", "1"])
    ledger.take("job-1-a", 1)
    words = r"needs 2 GPU\(s\) on this node and 1 of its 2 are free \(job-1-a: 0\)"
    with pytest.raises(GpusTaken, match=words):
        ledger.take("job-2-a", 2)
    assert ledger.free() == ["1"]  # a refusal takes nothing
