"""Containers on Ray nodes: `serve --backend ray --runtime podman|docker`.

The replica's host on its node's agent (replica.py, agent.py) runs `podman run` attached,
under its keeper, on the node Ray picked, exactly as the container backend (container.py)
does on this machine: host network (so CLUSTER_SPEC's node address and port are the container's), command and
args with Kubernetes semantics, the job's environment, the output folder and the buckets
mounted, pythonPackageSpec in the executor image, the replica's CPU, memory and GPU limits.
A container outlives a killed `run` client, so a stop also signals the container by name,
cleanup removes it, and the keeper removes it when the agent dies.

Each node's container CLI is that node's: its images (pulled only with --container-pull),
its configuration (the environment the Ray node was started with).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from customjobs.config import Settings
from customjobs.domain.placement import ReplicaAllocation
from customjobs.domain.spec import LaunchSpec, PoolSpec
from customjobs.execution.backends import limits
from customjobs.execution.backends.containers.backend import output_mounts
from customjobs.execution.backends.containers.cli import (
    LABEL_ATTEMPT,
    LABEL_JOB,
    LABEL_REPLICA,
    ContainerCli,
    RunSpec,
    container_name,
)
from customjobs.execution.backends.containers.tasks import (
    PACKAGES_MOUNT,
    bucket_mount,
    python_package_command,
)
from customjobs.execution.environment import ReplicaPlan


@dataclass(frozen=True)
class ContainerLaunch:
    """What the server tells a node about running containers (settings, not node facts)."""

    flavour: str
    program: str
    global_flags: tuple[str, ...]
    run_flags: tuple[str, ...]
    pull: bool
    buckets_dir: Path
    server_url: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ContainerLaunch | None:
        """None for host processes (`--runtime process`)."""
        if settings.runtime not in ("podman", "docker"):
            return None
        program = settings.container_cli or settings.runtime
        return cls(
            settings.runtime, program, settings.container_runtime_flags, settings.container_run_flags,
            settings.container_pull, settings.buckets_dir, settings.server_url,
        )  # fmt: skip

    def cli(self) -> ContainerCli:
        return ContainerCli(self.flavour, self.program, self.global_flags)


@dataclass(frozen=True)
class ContainerReplica:
    """One replica's container: its name, and the `run` command line that starts it."""

    name: str
    argv: list[str]


def missing_image(launch: ContainerLaunch, image: str, node: str) -> str | None:
    """Why the image cannot run on this node, or None."""
    if not image:
        return "The replica's worker pool has no containerSpec.imageUri."
    if launch.pull or launch.cli().image_present(image):
        return None
    return (
        f"The container image {image} was not found by {launch.flavour} on Ray node {node}, and "
        f"pulling is off: load it on every node, or start the server with --container-pull."
    )


def container_replica(
    launch: ContainerLaunch,
    spec: LaunchSpec,
    job_id: int,
    attempt: int,
    plan: ReplicaPlan,
    pool: PoolSpec,
    grant: ReplicaAllocation | None,
    staged: Path,
) -> ContainerReplica:
    name = container_name(job_id, attempt, plan.name)
    # plan.argv is command + args, each word $(VAR)-expanded: split it back at the seam.
    seam = len(pool.command)
    command = plan.argv[:seam]
    if pool.python_package is not None:
        command = python_package_command(pool.python_package, staged)
    staged.mkdir(parents=True, exist_ok=True)
    mounts = (
        *output_mounts(spec.base_output_uri),
        bucket_mount(launch.buckets_dir),
        (str(staged), PACKAGES_MOUNT),
    )
    run = RunSpec(
        name=name,
        image=pool.image_uri,
        command=command,
        args=plan.argv[seam:],
        env={**plan.env, "STORAGE_EMULATOR_HOST": launch.server_url, **limits.container_gpu_env(grant)},
        labels={LABEL_JOB: str(job_id), LABEL_ATTEMPT: str(attempt), LABEL_REPLICA: plan.name},
        mounts=mounts,
    )
    flags = (*limits.container_flags(launch.flavour, grant), *launch.run_flags)
    return ContainerReplica(name, launch.cli().run_argv(run, flags, launch.pull))


def node_grant(grant: ReplicaAllocation | None, gpu_ids: list[int]) -> ReplicaAllocation | None:
    """The server's grant with the GPUs Ray gave this replica on this node."""
    if grant is None or not grant.gpu_type:
        return grant
    return dataclasses.replace(grant, gpu_indices=tuple(gpu_ids))
