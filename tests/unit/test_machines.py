"""The machine table against Google's published shapes (Compute Engine machine families)."""

from __future__ import annotations

import pytest

from customjobs.domain.machines import MACHINE_TYPES, accelerator_problem, machine_type

# (machine type, vCPUs, memory GB) as published in the Compute Engine machine family pages.
PUBLISHED = [
    ("n1-standard-4", 4, 15),
    ("n1-standard-8", 8, 30),
    ("n1-standard-96", 96, 360),
    ("n1-highmem-16", 16, 104),
    ("n1-highcpu-32", 32, 28.8),
    ("n2-standard-8", 8, 32),
    ("n2-highmem-4", 4, 32),
    ("e2-standard-4", 4, 16),
    ("e2-highcpu-16", 16, 16),
    ("a2-highgpu-1g", 12, 85),
    ("a2-highgpu-8g", 96, 680),
    ("a2-megagpu-16g", 96, 1360),
    ("a2-ultragpu-1g", 12, 170),
    ("a3-highgpu-8g", 208, 1872),
    ("g2-standard-4", 4, 16),
    ("g2-standard-48", 48, 192),
]


@pytest.mark.parametrize(("name", "vcpus", "memory_gb"), PUBLISHED)
def test_shape_matches_published_figures(name: str, vcpus: int, memory_gb: float) -> None:
    machine = machine_type(name)
    assert machine is not None
    assert (machine.vcpus, machine.memory_gb) == (vcpus, memory_gb)


def test_gpu_machines_carry_their_fixed_gpus() -> None:
    a2 = MACHINE_TYPES["a2-highgpu-1g"]
    assert accelerator_problem(a2, "NVIDIA_TESLA_A100", 1) is None
    assert accelerator_problem(a2, "NVIDIA_TESLA_A100", 2) is not None
    assert accelerator_problem(MACHINE_TYPES["g2-standard-96"], "NVIDIA_L4", 8) is None


def test_n1_takes_attachable_gpus_and_e2_takes_none() -> None:
    n1 = MACHINE_TYPES["n1-standard-4"]
    assert accelerator_problem(n1, "NVIDIA_TESLA_T4", 2) is None
    assert accelerator_problem(n1, "NVIDIA_TESLA_T4", 3) is not None
    problem = accelerator_problem(MACHINE_TYPES["e2-standard-4"], "NVIDIA_TESLA_T4", 1)
    assert problem == 'Accelerator "NVIDIA_TESLA_T4" is not supported for machine type "e2-standard-4".'
    assert accelerator_problem(n1, "", 0) is None


def test_unknown_machine_type() -> None:
    assert machine_type("n9-imaginary-4") is None
