"""The server's capacity from flags or from the machine (nvidia-smi, /proc/meminfo)."""

from __future__ import annotations

from pathlib import Path

import pytest

from customjobs.config import Settings
from customjobs.execution import host
from customjobs.execution.capacity import Capacity, job_shape, never_fits
from customjobs.execution.host import GpuSpecError, accelerator_name, parse_gpus_option, parse_nvidia_smi
from customjobs.wire.launch import launch_spec

SMI_OUTPUT = "0, Tesla T4\n1, Tesla T4\n2, NVIDIA A100-SXM4-80GB\n3, NVIDIA H100 80GB HBM3\n"


@pytest.mark.parametrize(
    ("product", "vertex"),
    [
        ("Tesla T4", "NVIDIA_TESLA_T4"),
        ("Tesla V100-SXM2-16GB", "NVIDIA_TESLA_V100"),
        ("Tesla P100-PCIE-16GB", "NVIDIA_TESLA_P100"),
        ("Tesla P4", "NVIDIA_TESLA_P4"),
        ("Tesla K80", "NVIDIA_TESLA_K80"),
        ("NVIDIA A100-SXM4-40GB", "NVIDIA_TESLA_A100"),
        ("NVIDIA A100 80GB PCIe", "NVIDIA_A100_80GB"),
        ("NVIDIA H100 80GB HBM3", "NVIDIA_H100_80GB"),
        ("NVIDIA H200", "NVIDIA_H200_141GB"),
        ("NVIDIA L4", "NVIDIA_L4"),
        ("NVIDIA L40S", "NVIDIA_L40S"),
        ("NVIDIA B200", "NVIDIA_B200"),
        ("NVIDIA GeForce RTX 4090", "NVIDIA_GEFORCE_RTX_4090"),
    ],
)
def test_nvidia_smi_names_become_vertex_accelerator_types(product: str, vertex: str) -> None:
    assert accelerator_name(product) == vertex


def test_nvidia_smi_listing_keeps_device_indices() -> None:
    assert parse_nvidia_smi(SMI_OUTPUT) == {
        "NVIDIA_TESLA_T4": (0, 1),
        "NVIDIA_A100_80GB": (2,),
        "NVIDIA_H100_80GB": (3,),
    }
    assert parse_nvidia_smi("No devices were found\n") == {}


def test_gpus_option_numbers_devices_in_order() -> None:
    assert parse_gpus_option("NVIDIA_TESLA_T4:2,NVIDIA_L4:1") == {
        "NVIDIA_TESLA_T4": (0, 1),
        "NVIDIA_L4": (2,),
    }
    assert parse_gpus_option("none") == {}
    for bad in ("T4", "NVIDIA_TESLA_T4:x", "NVIDIA_TESLA_T4:1,NVIDIA_TESLA_T4:1"):
        with pytest.raises(GpuSpecError):
            parse_gpus_option(bad)


def test_detected_gpus_come_from_nvidia_smi(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host.shutil, "which", lambda name: "/usr/bin/nvidia-smi")
    asked: list[list[str]] = []

    def runner(argv: list[str]) -> str:
        asked.append(argv)
        return SMI_OUTPUT

    assert host.detect_gpus(runner)["NVIDIA_TESLA_T4"] == (0, 1)
    assert asked == [["nvidia-smi", "--query-gpu=index,name", "--format=csv,noheader"]]
    monkeypatch.setattr(host.shutil, "which", lambda name: None)
    assert host.detect_gpus(runner) == {}


def test_memory_from_meminfo(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24684084 kB\nMemFree:        21340360 kB\n")
    assert host.detect_memory_gb(meminfo) == 23.54


def test_flags_win_over_the_machine() -> None:
    settings = Settings(cpus=4, memory_gb=16, gpus="NVIDIA_TESLA_T4:2", strict_capacity=True)
    capacity = host.resolve(settings)
    assert capacity == Capacity(4, 16, {"NVIDIA_TESLA_T4": (0, 1)}, strict=True)


def test_never_fits_names_every_missing_resource() -> None:
    spec = launch_spec(
        '{"jobSpec": {"workerPoolSpecs": ['
        '{"machineSpec": {"machineType": "n1-standard-4", "acceleratorType": "NVIDIA_TESLA_T4",'
        ' "acceleratorCount": 4}, "replicaCount": "1", "containerSpec": {"imageUri": "x"}},'
        '{"machineSpec": {"machineType": "n1-standard-4", "acceleratorType": "NVIDIA_TESLA_T4",'
        ' "acceleratorCount": 4}, "replicaCount": "3", "containerSpec": {"imageUri": "x"}}]}}'
    )
    capacity = Capacity(4, 16, {"NVIDIA_TESLA_T4": (0, 1)}, strict=True)

    message = never_fits(job_shape(spec, capacity), capacity)

    assert message is not None
    assert "needs 16 vCPUs, 60 GB of memory, 16 NVIDIA_TESLA_T4" in message
    assert "short of 12 vCPUs, 44 GB of memory, 14 NVIDIA_TESLA_T4" in message
    lenient = Capacity(4, 16, {"NVIDIA_TESLA_T4": (0, 1)})
    assert never_fits(job_shape(spec, lenient), lenient) is None
