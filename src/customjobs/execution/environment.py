"""The environment Vertex gives every replica, built once for every backend.

CLUSTER_SPEC on every replica; TF_CONFIG when the job has more than one replica;
AIP_* output directories when baseOutputDirectory is set; CLOUD_ML_*; and the
PyTorch variables (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK) for pools 0 and 1.
The user's env comes last, with Kubernetes-style $(VAR) expansion.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from customjobs.domain.spec import POOL_TF_TYPES, LaunchSpec, PoolSpec, replica_name

_VAR_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
# Pools whose replicas join a PyTorch process group: the primary and the workers.
_TORCH_POOLS = (0, 1)


@dataclass(frozen=True)
class ReplicaPlan:
    """Everything a backend needs to start one replica."""

    name: str
    pool_index: int
    replica_index: int
    argv: tuple[str, ...]
    env: dict[str, str]


def expand(value: str, env: Mapping[str, str]) -> str:
    """$(VAR) -> its value when defined; $$ -> $ (so $$(VAR) stays literal); else unchanged."""

    def replace(match: re.Match[str]) -> str:
        if match[0] == "$$":
            return "$"
        return env.get(match[1], match[0])

    return _VAR_REF.sub(replace, value)


def local_output_path(uri: str) -> str:
    """file:// URIs become paths replicas can open; gs:// and paths are kept as given."""
    return uri.removeprefix("file://") if uri.startswith("file://") else uri


def output_env(base_uri: str | None) -> dict[str, str]:
    if not base_uri:
        return {}
    base = local_output_path(base_uri)
    base = base if base.endswith("/") else base + "/"
    return {
        "AIP_MODEL_DIR": base + "model/",
        "AIP_CHECKPOINT_DIR": base + "checkpoints/",
        "AIP_TENSORBOARD_LOG_DIR": base + "logs/",
    }


def make_local_output_dirs(base_uri: str | None) -> None:
    for value in output_env(base_uri).values():
        if not value.startswith("gs://"):
            Path(value).mkdir(parents=True, exist_ok=True)


def plan_replicas(
    spec: LaunchSpec,
    job_id: int,
    project: str,
    hosts: Mapping[str, str],
    dashboard_port: int | None = None,
) -> list[ReplicaPlan]:
    """One plan per replica; `hosts` maps each replica name to the host:port it owns.

    With `dashboard_port` (enableDashboardAccess), the primary replica gets it as
    AIP_HTTP_HANDLER_PORT: its dashboard listens there and the server proxies to it.
    """
    cluster = {f"workerpool{p.index}": [hosts[n] for n in p.replica_names()] for p in spec.pools}
    tf_cluster = {POOL_TF_TYPES[p.index]: cluster[f"workerpool{p.index}"] for p in spec.pools if p.index < 3}
    primary = hosts[replica_name(spec.pools[0].index, 0)]
    master_addr, master_port = primary.rsplit(":", 1)
    world_size = sum(p.replica_count for p in spec.pools if p.index in _TORCH_POOLS)
    base = {
        "CLOUD_ML_JOB_ID": str(job_id),
        "CLOUD_ML_PROJECT_ID": project,
        "MASTER_ADDR": master_addr,
        "MASTER_PORT": master_port,
        **output_env(spec.base_output_uri),
    }
    plans = []
    torch_rank = 0
    for pool in spec.pools:
        for index in range(pool.replica_count):
            env = dict(base)
            task = {"type": f"workerpool{pool.index}", "index": index}
            env["CLUSTER_SPEC"] = json.dumps(
                {"cluster": cluster, "environment": "cloud", "task": task, "job": spec.job_spec}
            )
            if spec.replica_count > 1:
                tf_task = {"type": POOL_TF_TYPES[pool.index], "index": index}
                env["TF_CONFIG"] = json.dumps(
                    {"cluster": tf_cluster, "environment": "cloud", "task": tf_task, "job": spec.job_spec}
                )
            if pool.index in _TORCH_POOLS:
                env.update(WORLD_SIZE=str(world_size), RANK=str(torch_rank), LOCAL_RANK="0")
                torch_rank += 1
            if dashboard_port is not None and pool is spec.pools[0] and index == 0:
                env["AIP_HTTP_HANDLER_PORT"] = str(dashboard_port)
            plans.append(_plan(pool, index, env))
    return plans


def _plan(pool: PoolSpec, index: int, service_env: dict[str, str]) -> ReplicaPlan:
    env = dict(service_env)
    for name, value in pool.env:
        env[name] = expand(value, env)
    argv = tuple(expand(a, env) for a in (*pool.command, *pool.args))
    return ReplicaPlan(replica_name(pool.index, index), pool.index, index, argv, env)
