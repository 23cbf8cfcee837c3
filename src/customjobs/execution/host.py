"""The server's capacity: what `serve --cpus/--memory-gb/--gpus` says, or what the machine has.

vCPUs come from os.cpu_count(), memory from /proc/meminfo, GPUs from `nvidia-smi` when it
is installed, each GPU named as Vertex names its accelerator type (a Tesla T4 is
NVIDIA_TESLA_T4), so a job's `acceleratorType` finds it. The device indices nvidia-smi
reports are the ones replicas get in CUDA_VISIBLE_DEVICES.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from customjobs.config import Settings
from customjobs.execution.capacity import Capacity

log = logging.getLogger(__name__)

NVIDIA_SMI_TIMEOUT_S = 10.0
MEMINFO = Path("/proc/meminfo")
_KIB_PER_GIB = 1024 * 1024

# nvidia-smi's product names, most specific first, to Vertex's AcceleratorType names.
_GPU_NAMES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), vertex)
    for pattern, vertex in (
        (r"H200", "NVIDIA_H200_141GB"),
        (r"H100", "NVIDIA_H100_80GB"),
        (r"B200", "NVIDIA_B200"),
        (r"A100.*80\s*GB", "NVIDIA_A100_80GB"),
        (r"A100", "NVIDIA_TESLA_A100"),
        (r"\bL4\b", "NVIDIA_L4"),
        (r"\bT4\b", "NVIDIA_TESLA_T4"),
        (r"V100", "NVIDIA_TESLA_V100"),
        (r"P100", "NVIDIA_TESLA_P100"),
        (r"\bP4\b", "NVIDIA_TESLA_P4"),
        (r"K80", "NVIDIA_TESLA_K80"),
    )
)

Runner = Callable[[list[str]], str]


class GpuSpecError(ValueError):
    """A `--gpus` value that is not TYPE:COUNT[,TYPE:COUNT...]."""


def accelerator_name(product: str) -> str:
    """Vertex's name for an nvidia-smi product name; an unknown GPU keeps a name of its own."""
    for pattern, vertex in _GPU_NAMES:
        if pattern.search(product):
            return vertex
    return "NVIDIA_" + re.sub(r"[^A-Z0-9]+", "_", product.upper().removeprefix("NVIDIA ")).strip("_")


def parse_nvidia_smi(output: str) -> dict[str, tuple[int, ...]]:
    """`index, name` CSV lines (no header) as device indices by Vertex accelerator type."""
    devices: dict[str, list[int]] = {}
    for line in output.splitlines():
        index, _, name = line.partition(",")
        if not index.strip().isdigit() or not name.strip():
            continue
        devices.setdefault(accelerator_name(name.strip()), []).append(int(index))
    return {kind: tuple(indices) for kind, indices in devices.items()}


def parse_gpus_option(value: str) -> dict[str, tuple[int, ...]]:
    """`NVIDIA_TESLA_T4:2,NVIDIA_L4:1` as device indices, numbered 0.. in the order given;
    `none` (or empty) for no GPUs."""
    devices: dict[str, tuple[int, ...]] = {}
    if value.strip().lower() in ("", "none"):
        return devices
    next_index = 0
    for item in value.split(","):
        kind, sep, count = item.strip().partition(":")
        if not sep or not kind or not count.strip().isdigit():
            raise GpuSpecError(
                f"--gpus {value!r}: expected TYPE:COUNT[,TYPE:COUNT...], e.g. NVIDIA_TESLA_T4:2"
            )
        if kind in devices:
            raise GpuSpecError(f"--gpus {value!r}: {kind} is given twice")
        n = int(count)
        devices[kind] = tuple(range(next_index, next_index + n))
        next_index += n
    return {kind: indices for kind, indices in devices.items() if indices}


def _run(argv: list[str]) -> str:
    result = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=NVIDIA_SMI_TIMEOUT_S,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return result.stdout


def detect_gpus(runner: Runner = _run) -> dict[str, tuple[int, ...]]:
    if shutil.which("nvidia-smi") is None:
        return {}
    try:
        output = runner(["nvidia-smi", "--query-gpu=index,name", "--format=csv,noheader"])
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("nvidia-smi is installed but could not list GPUs (%s): assuming none", exc)
        return {}
    return parse_nvidia_smi(output)


def detect_memory_gb(meminfo: Path = MEMINFO) -> float:
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / _KIB_PER_GIB, 2)
    except (OSError, ValueError, IndexError):
        pass
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return round(pages / 1024**3, 2)


@dataclass(frozen=True)
class Detected:
    """What a backend found it can run on (a Ray cluster's totals), instead of this machine."""

    cpus: float
    memory_gb: float
    gpus: dict[str, int]


def resolve(settings: Settings, detected: Detected | None = None) -> Capacity:
    """The capacity this server schedules against (settings first, then what the backend
    found, then this machine)."""
    if settings.gpus is not None:
        gpus = parse_gpus_option(settings.gpus)
    elif detected is not None:
        gpus = {kind: tuple(range(count)) for kind, count in detected.gpus.items() if count}
    else:
        gpus = detect_gpus()
    machine_cpus = detected.cpus if detected else float(os.cpu_count() or 1)
    machine_memory = detected.memory_gb if detected else detect_memory_gb()
    capacity = Capacity(
        cpus=settings.cpus if settings.cpus is not None else machine_cpus,
        memory_gb=settings.memory_gb if settings.memory_gb is not None else machine_memory,
        gpu_devices=gpus,
        strict=settings.strict_capacity,
        max_jobs_per_project=settings.max_jobs_per_project,
    )
    log.info("scheduler capacity: %s", capacity.describe())
    return capacity
