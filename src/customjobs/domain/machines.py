"""Compute Engine machine shapes that Vertex training accepts: vCPUs, memory, accelerators.

One row per machine type, written from Google's published machine-family tables, so a
job's `machineSpec` can be turned into the resources it asks for. Accelerator rules
say which GPU types (and how many) a machine type can carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# N1 machines carry attachable GPUs; the counts Compute Engine allows per VM.
_N1_GPUS: dict[str, tuple[int, ...]] = {
    "NVIDIA_TESLA_K80": (1, 2, 4, 8),
    "NVIDIA_TESLA_P4": (1, 2, 4),
    "NVIDIA_TESLA_P100": (1, 2, 4),
    "NVIDIA_TESLA_T4": (1, 2, 4),
    "NVIDIA_TESLA_V100": (1, 2, 4, 8),
}


@dataclass(frozen=True)
class MachineType:
    name: str
    vcpus: int
    memory_gb: float
    # Accelerator type -> the counts this machine type may carry. Empty: no accelerators.
    accelerators: dict[str, tuple[int, ...]] = field(default_factory=dict)
    # The accelerators the type always has, asked for or not: a TPU VM type (ct5lp-hightpu-4t)
    # names its chips, and Vertex takes it with no accelerator fields at all.
    built_in: tuple[str, int] | None = None


def _family(
    prefix: str, gb_per_vcpu: float, sizes: tuple[int, ...], gpus: dict[str, tuple[int, ...]]
) -> list[MachineType]:
    return [MachineType(f"{prefix}-{n}", n, round(gb_per_vcpu * n, 2), gpus) for n in sizes]


def _fixed(name: str, vcpus: int, memory_gb: float, gpu: str, count: int) -> MachineType:
    return MachineType(name, vcpus, memory_gb, {gpu: (count,)})


def _tpu_vm(name: str, vcpus: int, memory_gb: float, tpu: str, chips: int) -> MachineType:
    return MachineType(name, vcpus, memory_gb, {tpu: (chips,)}, built_in=(tpu, chips))


# Vertex training's TPU machine types (cloud.google.com/vertex-ai/docs/training/configure-compute):
# the legacy TPU VM `cloud-tpu` takes TPU_V2 or TPU_V3 x 8 in its accelerator fields; the newer
# types carry their chips (and `tpuTopology` says how they are wired) with no accelerator fields.
_TPUS: list[MachineType] = [
    MachineType("cloud-tpu", 96, 340, {"TPU_V2": (8,), "TPU_V3": (8,)}),
    _tpu_vm("ct4p-hightpu-4t", 240, 407, "TPU_V4_POD", 4),
    _tpu_vm("ct5lp-hightpu-1t", 24, 48, "TPU_V5_LITEPOD", 1),
    _tpu_vm("ct5lp-hightpu-4t", 112, 192, "TPU_V5_LITEPOD", 4),
    _tpu_vm("ct5lp-hightpu-8t", 224, 384, "TPU_V5_LITEPOD", 8),
]

_ROWS: list[MachineType] = [
    *_TPUS,
    *_family("n1-standard", 3.75, (1, 2, 4, 8, 16, 32, 64, 96), _N1_GPUS),
    *_family("n1-highmem", 6.5, (2, 4, 8, 16, 32, 64, 96), _N1_GPUS),
    *_family("n1-highcpu", 0.9, (2, 4, 8, 16, 32, 64, 96), _N1_GPUS),
    *_family("n2-standard", 4, (2, 4, 8, 16, 32, 48, 64, 80, 96, 128), {}),
    *_family("n2-highmem", 8, (2, 4, 8, 16, 32, 48, 64, 80, 96, 128), {}),
    *_family("n2-highcpu", 1, (2, 4, 8, 16, 32, 48, 64, 80, 96), {}),
    *_family("e2-standard", 4, (2, 4, 8, 16, 32), {}),
    *_family("e2-highmem", 8, (2, 4, 8, 16), {}),
    *_family("e2-highcpu", 1, (2, 4, 8, 16, 32), {}),
    *_family("c2-standard", 4, (4, 8, 16, 30, 60), {}),
    _fixed("a2-highgpu-1g", 12, 85, "NVIDIA_TESLA_A100", 1),
    _fixed("a2-highgpu-2g", 24, 170, "NVIDIA_TESLA_A100", 2),
    _fixed("a2-highgpu-4g", 48, 340, "NVIDIA_TESLA_A100", 4),
    _fixed("a2-highgpu-8g", 96, 680, "NVIDIA_TESLA_A100", 8),
    _fixed("a2-megagpu-16g", 96, 1360, "NVIDIA_TESLA_A100", 16),
    _fixed("a2-ultragpu-1g", 12, 170, "NVIDIA_A100_80GB", 1),
    _fixed("a2-ultragpu-2g", 24, 340, "NVIDIA_A100_80GB", 2),
    _fixed("a2-ultragpu-4g", 48, 680, "NVIDIA_A100_80GB", 4),
    _fixed("a2-ultragpu-8g", 96, 1360, "NVIDIA_A100_80GB", 8),
    _fixed("a3-highgpu-1g", 26, 234, "NVIDIA_H100_80GB", 1),
    _fixed("a3-highgpu-2g", 52, 468, "NVIDIA_H100_80GB", 2),
    _fixed("a3-highgpu-4g", 104, 936, "NVIDIA_H100_80GB", 4),
    _fixed("a3-highgpu-8g", 208, 1872, "NVIDIA_H100_80GB", 8),
    _fixed("a3-megagpu-8g", 208, 1872, "NVIDIA_H100_MEGA_80GB", 8),
    _fixed("a3-ultragpu-8g", 224, 2952, "NVIDIA_H200_141GB", 8),
    _fixed("a4-highgpu-8g", 224, 3968, "NVIDIA_B200", 8),
    _fixed("g2-standard-4", 4, 16, "NVIDIA_L4", 1),
    _fixed("g2-standard-8", 8, 32, "NVIDIA_L4", 1),
    _fixed("g2-standard-12", 12, 48, "NVIDIA_L4", 1),
    _fixed("g2-standard-16", 16, 64, "NVIDIA_L4", 1),
    _fixed("g2-standard-24", 24, 96, "NVIDIA_L4", 2),
    _fixed("g2-standard-32", 32, 128, "NVIDIA_L4", 1),
    _fixed("g2-standard-48", 48, 192, "NVIDIA_L4", 4),
    _fixed("g2-standard-96", 96, 384, "NVIDIA_L4", 8),
]

MACHINE_TYPES: dict[str, MachineType] = {row.name: row for row in _ROWS}


def machine_type(name: str) -> MachineType | None:
    return MACHINE_TYPES.get(name)


def accelerators_of(name: str, accelerator: str, count: int) -> tuple[str, int] | None:
    """What a replica of this machine spec holds: the accelerators asked for, else the type's own."""
    if accelerator and count:
        return accelerator, count
    machine = machine_type(name)
    return machine.built_in if machine else None


def accelerator_problem(machine: MachineType, accelerator: str, count: int) -> str | None:
    """Vertex's words for an accelerator request the machine type cannot carry; None if it can."""
    if not accelerator:
        return None
    counts = machine.accelerators.get(accelerator)
    if counts is None:
        return f'Accelerator "{accelerator}" is not supported for machine type "{machine.name}".'
    if count not in counts:
        allowed = ", ".join(str(c) for c in counts)
        return (
            f'Accelerator count {count} of "{accelerator}" is not supported for machine type '
            f'"{machine.name}"; supported counts: {allowed}.'
        )
    return None
