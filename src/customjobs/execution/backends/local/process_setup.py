"""What a host process needs, beyond Vertex's variables, to run as it would in a container.

- `/gcs/bucket/x` in command and args becomes the local bucket folder: a host process
  cannot have Vertex's Cloud Storage FUSE mount at /gcs.
- A per-job virtual environment (system site packages) comes first on PATH and
  PYTHONUSERBASE is a per-job folder, so `pip install --upgrade pip` and
  `pip install --user` in a job's command (from_local_script writes both) change only
  that job, never the host Python.
- STORAGE_EMULATOR_HOST is this server, so google-cloud-storage and gcsfs in the job
  reach the buckets that gs:// AIP_MODEL_DIR and friends name. gcsfs's default
  filesystem first asks a gRPC storage-control API what kind of bucket it has (retrying
  for a minute, on every call, where none answers): GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false
  selects its plain JSON-API filesystem, which is all local buckets need.
- pythonPackageSpec replicas run the pyrunner bootstrap (pypackage.py).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from customjobs.config import Settings
from customjobs.domain.spec import PoolSpec
from customjobs.execution.backends.base import LaunchError
from customjobs.execution.backends.packages import venvs
from customjobs.execution.backends.packages.command import python_package_argv
from customjobs.execution.environment import ReplicaPlan
from customjobs.storage.names import rewrite_gcs_mount

JOB_VENV = "venv"
JOB_USER_BASE = "pyuser"


@dataclass(frozen=True)
class ProcessOptions:
    buckets_dir: Path
    python_envs_dir: Path
    server_url: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ProcessOptions:
        return cls(settings.buckets_dir, settings.python_envs_dir, settings.server_url)


def job_environment(job_dir: Path, options: ProcessOptions, host_path: str) -> dict[str, str]:
    """Variables every replica of the job gets (before the user's env, which may override them).

    The job's environment is made on the job's first launch and kept for its restarts.
    """
    env_dir = job_dir / JOB_VENV
    if not venvs.python_of(env_dir).exists():
        try:
            venvs.create(env_dir)
        except (OSError, RuntimeError) as exc:
            raise LaunchError(
                f"The job's Python environment could not be created in {env_dir}: {exc}"
            ) from exc
    path = str(venvs.bin_dir(env_dir))
    return {
        "PATH": f"{path}:{host_path}" if host_path else path,
        "VIRTUAL_ENV": str(env_dir),
        "PYTHONUSERBASE": str(job_dir / JOB_USER_BASE),
        "STORAGE_EMULATOR_HOST": options.server_url,
        "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
    }


def replica_argv(plan: ReplicaPlan, pool: PoolSpec, options: ProcessOptions) -> tuple[str, ...]:
    argv = tuple(rewrite_gcs_mount(a, options.buckets_dir) for a in plan.argv)
    package = pool.python_package
    if package is None:
        return argv
    uris = tuple(rewrite_gcs_mount(u, options.buckets_dir) for u in package.package_uris)
    package = dataclasses.replace(package, package_uris=uris)
    return python_package_argv(package, argv, options.python_envs_dir, options.buckets_dir)
