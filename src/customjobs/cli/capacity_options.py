"""`serve`'s capacity options, gathered into one value so `serve` takes them as a unit.

--cpus, --memory-gb and --gpus say what the scheduler may hand out (default: what the
machine has); --strict-capacity accounts requests exactly; --max-jobs-per-project caps
each project's running jobs; --cgroup-root lets host-process replicas have enforced limits.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from customjobs.domain.machines import MACHINE_TYPES


@dataclass(frozen=True)
class CapacityOptions:
    cpus: float | None
    memory_gb: float | None
    gpus: str | None
    strict_capacity: bool
    max_jobs_per_project: int | None
    cgroup_root: Path | None

    def settings(self) -> dict[str, Any]:
        """Keyword arguments of Settings."""
        return {
            "cpus": self.cpus,
            "memory_gb": self.memory_gb,
            "gpus": self.gpus,
            "strict_capacity": self.strict_capacity,
            "max_jobs_per_project": self.max_jobs_per_project,
            "cgroup_root": self.cgroup_root,
        }


def _known_accelerators() -> set[str]:
    return {kind for machine in MACHINE_TYPES.values() for kind in machine.accelerators}


def _check_gpus(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from customjobs.execution.host import GpuSpecError, parse_gpus_option

    if value is None:
        return None
    try:
        devices = parse_gpus_option(value)
    except GpuSpecError as exc:
        raise click.BadParameter(str(exc)) from exc
    unknown = sorted(set(devices) - _known_accelerators())
    if unknown:
        known = ", ".join(sorted(_known_accelerators()))
        raise click.BadParameter(f"unknown accelerator type {', '.join(unknown)}; Vertex's types: {known}")
    return value


_OPTIONS = (
    click.option(
        "--cpus", type=click.FloatRange(min=0, min_open=True), default=None,
        help="vCPUs the scheduler may hand out [default: this machine's].",
    ),
    click.option(
        "--memory-gb", type=click.FloatRange(min=0, min_open=True), default=None,
        help="GB of memory the scheduler may hand out [default: this machine's].",
    ),
    click.option(
        "--gpus", default=None, callback=_check_gpus, metavar="TYPE:COUNT[,TYPE:COUNT]",
        help="GPUs by Vertex accelerator type, e.g. NVIDIA_TESLA_T4:2, or 'none' "
        "[default: what nvidia-smi finds].",
    ),
    click.option(
        "--strict-capacity", is_flag=True,
        help="Account requests exactly and refuse at create a job that could never fit "
        "[default: lenient, a job larger than the machine runs alone on all of it].",
    ),
    click.option(
        "--max-jobs-per-project", type=click.IntRange(min=1), default=None,
        help="At most this many jobs of one project run at once [default: no limit].",
    ),
    click.option(
        "--cgroup-root", type=click.Path(file_okay=False, path_type=Path), default=None,
        help="A cgroup v2 directory this server may write: host-process replicas get enforced "
        "CPU and memory limits [default: none, limits of host processes are advisory].",
    ),
)  # fmt: skip


def capacity_options(func: Callable[..., None]) -> Callable[..., None]:
    """Adds the options to a click command, which receives them as `capacity: CapacityOptions`."""

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        cpus: float | None,
        memory_gb: float | None,
        gpus: str | None,
        strict_capacity: bool,
        max_jobs_per_project: int | None,
        cgroup_root: Path | None,
        **kwargs: Any,
    ) -> None:
        kwargs["capacity"] = CapacityOptions(
            cpus, memory_gb, gpus, strict_capacity, max_jobs_per_project, cgroup_root
        )
        func(*args, **kwargs)

    command: Callable[..., None] = wrapper
    for option in reversed(_OPTIONS):
        command = option(command)
    return command
