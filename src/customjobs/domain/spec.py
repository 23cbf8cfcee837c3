"""What a job asks to run, reduced to what execution needs.

wire/launch.py builds this from the stored CustomJob JSON; backends never see proto.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Vertex's role of each worker pool position (CLUSTER_SPEC key, TF_CONFIG task type).
POOL_TF_TYPES = ("chief", "worker", "ps", "evaluator")
DEFAULT_TIMEOUT_S = 7 * 24 * 3600.0


@dataclass(frozen=True)
class PythonPackage:
    executor_image_uri: str
    package_uris: tuple[str, ...]
    python_module: str


@dataclass(frozen=True)
class PoolSpec:
    index: int
    replica_count: int
    machine_type: str
    image_uri: str
    command: tuple[str, ...]
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    accelerator_type: str = ""
    accelerator_count: int = 0
    python_package: PythonPackage | None = None

    def replica_names(self) -> list[str]:
        return [replica_name(self.index, r) for r in range(self.replica_count)]


@dataclass(frozen=True)
class LaunchSpec:
    """Only the non-empty pools, each keeping its position (an empty `{}` pool skips a role)."""

    pools: tuple[PoolSpec, ...]
    timeout_s: float = DEFAULT_TIMEOUT_S
    base_output_uri: str | None = None
    # scheduling.maxWaitDuration: how long the job may wait in the queue; None or 0: forever.
    max_wait_s: float | None = None
    enable_web_access: bool = False
    # The primary replica serves a dashboard on AIP_HTTP_HANDLER_PORT, proxied by the server.
    enable_dashboard_access: bool = False
    restart_job_on_worker_restart: bool = False
    disable_retries: bool = False
    # The CustomJobSpec as a snake_case dict: CLUSTER_SPEC and TF_CONFIG carry it as "job".
    job_spec: dict[str, Any] = field(default_factory=dict)

    @property
    def replica_count(self) -> int:
        return sum(p.replica_count for p in self.pools)


def replica_name(pool_index: int, replica_index: int) -> str:
    return f"workerpool{pool_index}-{replica_index}"
