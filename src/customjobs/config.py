"""Settings: the only module that reads environment variables.

Everything else receives a Settings object, so tests and the CLI configure the server
the same way and nothing deep in the code changes behaviour behind their back.
"""

from __future__ import annotations

import os
import shlex
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from customjobs.security.settings import SecuritySettings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def default_data_dir() -> Path:
    env = os.environ.get("CUSTOMJOBS_DATA_DIR")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("customjobs", appauthor=False))


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    database_url: str | None = None
    # How long a replica has between SIGTERM and SIGKILL when it is stopped.
    stop_grace_s: float = 5.0
    # How often the scheduler looks at running jobs when nothing wakes it sooner.
    active_tick_s: float = 0.25
    # Jobs admitted together are launched on this many threads at once (1: one at a time).
    launch_threads: int = 4
    idle_tick_s: float = 5.0
    # How many trailing log lines of a failed replica go into the job's error message.
    error_log_lines: int = 10
    default_page_size: int = 100
    max_page_size: int = 1000
    # Where the process backend's replicas write their logs, pid and exit files.
    jobs_dir_name: str = "jobs"
    # SQLite's synchronous PRAGMA: NORMAL survives a killed server; FULL also a power loss.
    sqlite_synchronous: str = "NORMAL"
    # How replicas run on this machine: host processes or containers (execution/backends/registry.py).
    runtime: str = "process"
    # Where replicas run: "local" (this machine, as `runtime` says) or "ray" (a Ray cluster).
    backend: str = "local"
    # The Ray cluster's GCS address (HOST:PORT); None: $RAY_ADDRESS, else a local cluster.
    ray_address: str | None = None
    ray_namespace: str = "customjobs"
    # The placement-group strategy of every job's gang (SPREAD, STRICT_SPREAD, PACK, STRICT_PACK).
    ray_placement_strategy: str = "SPREAD"
    # How long a job's placement group may wait for the cluster before the job fails.
    ray_placement_timeout_s: float = 60.0
    # After this long without an answer from the Ray cluster, its jobs' replicas count as lost.
    ray_unreachable_grace_s: float = 300.0
    # A folder on every Ray node for replicas' logs, working folders and Python environments.
    ray_node_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "customjobs-ray")
    # The jobs folder when it is not `data_dir / jobs_dir_name`: servers sharing one database
    # must share it, since replicas' pid, exit and log files are how any server re-attaches.
    jobs_dir_override: Path | None = None
    # This server's name in the scheduler lease; None: host, pid and more (execution/scheduler/holders.py).
    server_id: str | None = None
    # How long a scheduler lease lasts unrenewed: a dead holder's lease is taken over after at
    # most this long (plus a quarter of it, the peers' retry interval).
    lease_ttl_s: float = 5.0
    # Take a lease over at once when its holder ran on this host and its process is gone,
    # instead of waiting for the lease to expire (the only way across hosts).
    lease_local_takeover: bool = True
    # How often the lease holder looks for work other servers created while nothing is active.
    peer_poll_s: float = 0.5
    # After SIGTERM: how long the server keeps answering (creates with 503) before it exits.
    drain_grace_s: float = 0.0
    # The container CLI program for runtime podman/docker; None: the runtime's own name on PATH.
    container_cli: str | None = None
    # Flags before the CLI's verb, e.g. ("--runtime", "runc", "--cgroup-manager=cgroupfs"):
    # what a machine's podman needs is that machine's business, so none by default.
    container_runtime_flags: tuple[str, ...] = ()
    # Extra flags for `run`, after ours (e.g. "--shm-size=1g", "--gpus=all").
    container_run_flags: tuple[str, ...] = ()
    # Pull an image that is not present locally; off, so a typo fails fast naming the image.
    container_pull: bool = False
    # Where `gs://bucket/path` lives when it is not `data_dir / "buckets"` (storage/).
    buckets_dir_override: Path | None = None
    # This server's URL as its replicas reach it (their STORAGE_EMULATOR_HOST); None: from host/port.
    base_url: str | None = None
    # Capacity the scheduler hands out; None: what the machine has (execution/host.py).
    cpus: float | None = None
    memory_gb: float | None = None
    # `TYPE:COUNT[,TYPE:COUNT]` (Vertex accelerator names) or "none"; None: what nvidia-smi finds.
    gpus: str | None = None
    # Account requests exactly and refuse at create a job that could never fit; otherwise a
    # job larger than the machine is clamped to it and runs alone.
    strict_capacity: bool = False
    # At most this many jobs of one project hold resources at once; None: no limit.
    max_jobs_per_project: int | None = None
    # A cgroup v2 directory this server may write: host-process replicas get CPU and memory
    # limits in a child cgroup each. None: limits of host processes are advisory.
    cgroup_root: Path | None = None
    # Authentication, authorization, request limits and REST TLS (security/).
    security: SecuritySettings = field(default_factory=SecuritySettings)

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'customjobs.db'}"

    @property
    def jobs_dir(self) -> Path:
        if self.jobs_dir_override is not None:
            return self.jobs_dir_override
        return self.data_dir / self.jobs_dir_name

    @property
    def buckets_dir(self) -> Path:
        if self.buckets_dir_override is not None:
            return self.buckets_dir_override
        return self.data_dir / "buckets"

    @property
    def python_envs_dir(self) -> Path:
        """The cached virtual environments of pythonPackageSpec jobs, one per package set."""
        return self.data_dir / "python-envs"

    @property
    def server_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        host = f"[{host}]" if ":" in host else host
        scheme = "https" if self.security.rest_tls else "http"
        return f"{scheme}://{host}:{self.port}"


def env_database_url() -> str | None:
    return os.environ.get("CUSTOMJOBS_DATABASE_URL")


def env_container_global_flags() -> str | None:
    """Global flags for the container CLI, one shell-quoted string (split with shlex)."""
    return os.environ.get("CUSTOMJOBS_CONTAINER_GLOBAL_FLAGS")


def env_container_run_flags() -> str | None:
    return os.environ.get("CUSTOMJOBS_CONTAINER_RUN_FLAGS")


def split_flags(value: str | None) -> tuple[str, ...]:
    """A flags setting given as one shell-quoted string, as argument words."""
    return tuple(shlex.split(value or ""))
