"""`serve`'s backend options: where replicas run (this machine, or a Ray cluster).

--backend local runs them here (as host processes or containers, --runtime); --backend ray
places every job on the Ray cluster at --ray-address (execution/backends/ray/backend.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

STRATEGIES = ("SPREAD", "STRICT_SPREAD", "PACK", "STRICT_PACK")


@dataclass(frozen=True)
class BackendOptions:
    backend: str
    ray_address: str | None
    ray_namespace: str
    ray_placement_strategy: str
    ray_placement_timeout: float
    ray_unreachable_grace: float
    ray_node_dir: Path | None

    def settings(self) -> dict[str, Any]:
        """Keyword arguments of Settings."""
        values: dict[str, Any] = {
            "backend": self.backend,
            "ray_address": self.ray_address,
            "ray_namespace": self.ray_namespace,
            "ray_placement_strategy": self.ray_placement_strategy,
            "ray_placement_timeout_s": self.ray_placement_timeout,
            "ray_unreachable_grace_s": self.ray_unreachable_grace,
        }
        if self.ray_node_dir is not None:
            values["ray_node_dir"] = self.ray_node_dir
        return values


_OPTIONS = (
    click.option(
        "--backend", type=click.Choice(["local", "ray"]), default="local", show_default=True,
        help="Run replicas on this machine, or gang-scheduled on a Ray cluster.",
    ),
    click.option(
        "--ray-address", default=None, metavar="HOST:PORT",
        help="The Ray cluster's GCS address, as `ray start --head` prints it "
        "[default: $RAY_ADDRESS, else a running local cluster].",
    ),
    click.option(
        "--ray-namespace", default="customjobs", show_default=True,
        help="The Ray namespace of this server's actors and placement groups.",
    ),
    click.option(
        "--ray-placement-strategy", type=click.Choice(STRATEGIES), default="SPREAD", show_default=True,
        help="How a job's replicas are spread over nodes (Ray placement-group strategy).",
    ),
    click.option(
        "--ray-placement-timeout", type=click.FloatRange(min=0, min_open=True), default=60.0,
        show_default=True, help="Seconds a job's placement group may wait for the cluster before it fails.",
    ),
    click.option(
        "--ray-unreachable-grace", type=click.FloatRange(min=0), default=300.0, show_default=True,
        help="Seconds the Ray cluster may not answer before its running jobs' replicas count as lost.",
    ),
    click.option(
        "--ray-node-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
        help="Folder on every Ray node for replicas' working files "
        "[default: TMPDIR/customjobs-ray].",
    ),
)  # fmt: skip


def backend_options(func: Callable[..., None]) -> Callable[..., None]:
    """Adds the options to a click command, which receives them as `backend: BackendOptions`."""

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        backend: str,
        ray_address: str | None,
        ray_namespace: str,
        ray_placement_strategy: str,
        ray_placement_timeout: float,
        ray_unreachable_grace: float,
        ray_node_dir: Path | None,
        **kwargs: Any,
    ) -> None:
        kwargs["backend"] = BackendOptions(
            backend,
            ray_address,
            ray_namespace,
            ray_placement_strategy,
            ray_placement_timeout,
            ray_unreachable_grace,
            ray_node_dir,
        )
        func(*args, **kwargs)

    command: Callable[..., None] = wrapper
    for option in reversed(_OPTIONS):
        command = option(command)
    return command
