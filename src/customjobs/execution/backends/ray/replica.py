"""One replica on a Ray node: the actor that starts it there and reports on it.

The Ray backend (ray_backend.py) places one `ReplicaHost` actor per replica in the job's
placement group. The actor runs on the node Ray picked, so what it reports is that node's:
its address, a port free on it, its GPUs (Ray sets CUDA_VISIBLE_DEVICES for the actor,
and the replica inherits it). It then starts the replica exactly as the process backend
would (the same argv, Python-package bootstrap and job environment, built here so every
path is the node's own) under the keeper (keeper.py), in a process group of its own,
output to a log file on the node. The server pulls that log home in chunks from an
offset it keeps, so a restarted server, or a chunk lost in transit, never loses a line.

Actors are detached and named (ray_backend.actor_name): they outlive the server, and a
restarted server finds them again by name.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from customjobs.domain.placement import ReplicaAllocation
from customjobs.domain.spec import LaunchSpec, PoolSpec
from customjobs.execution.backends import procfs
from customjobs.execution.backends.containers.cli import ContainerCli
from customjobs.execution.backends.local.process_setup import ProcessOptions, job_environment, replica_argv
from customjobs.execution.backends.local.wrapper import read_exit, read_pid
from customjobs.execution.backends.ray.container import (
    ContainerLaunch,
    container_replica,
    missing_image,
    node_grant,
)
from customjobs.execution.environment import ReplicaPlan


@dataclass(frozen=True)
class Placement:
    """Where Ray put a replica, as the node itself sees it."""

    node_ip: str
    node_id: str
    port: int


@dataclass(frozen=True)
class ReplicaStart:
    """What the server sends a replica's actor to start it."""

    plan: ReplicaPlan
    pool: PoolSpec
    spec: LaunchSpec
    options: ProcessOptions
    grant: ReplicaAllocation | None
    # How to run it as a container; None: a host process, as the process runtime.
    container: ContainerLaunch | None


@dataclass(frozen=True)
class Progress:
    """One poll's answer: the next log bytes and, once the keeper has ended, its exit status."""

    chunk: bytes
    exit_code: int | None
    # More log bytes wait beyond this chunk: the replica has not been reported in full yet.
    more: bool
    # Some process of the replica's group is still alive (the command may leave children).
    group_alive: bool


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("", 0))
        return int(s.getsockname()[1])


class ReplicaHost:
    def __init__(self, replica: str, node_root: str, job_id: int, attempt: int) -> None:
        import ray  # only ever constructed inside a Ray worker

        self._replica = replica
        self._node_id = ray.get_runtime_context().get_node_id()
        self._node_ip = ray.util.get_node_ip_address()  # type: ignore[no-untyped-call]
        # Per node: nodes started side by side on one machine share its file system.
        self._job_dir = Path(node_root) / self._node_id[:16] / f"job-{job_id}"
        self._attempt_dir = self._job_dir / f"attempt-{attempt}"
        self._attempt_dir.mkdir(parents=True, exist_ok=True)
        self._log = self._attempt_dir / f"{replica}.log"
        # The keeper writes PREFIX.pid and PREFIX.exit, as the local backends' wrapper does.
        self._prefix = self._attempt_dir / replica
        # The keeper's launcher: it exits at once, and its pid is the replica's process group.
        self._proc: subprocess.Popen[bytes] | None = None
        self._job_id, self._attempt = job_id, attempt
        # A container replica's CLI and container name (ray_container.py); None for a process.
        self._cli: ContainerCli | None = None
        self._container: str | None = None

    def placement(self) -> Placement:
        return Placement(self._node_ip, self._node_id, free_port())

    def start(self, what: ReplicaStart) -> str | None:
        """Start the replica; None, or why it could not start (for the user)."""
        plan = what.plan
        try:
            if what.container is None:
                argv, env = self._host_process(what)
                if not argv:
                    return (
                        f"The replica {plan.name} has no command: the Ray backend runs "
                        "containerSpec.command + args on its node, and both are empty."
                    )
                cleanup: list[str] = []
            else:
                problem = missing_image(what.container, what.pool.image_uri, self._node_ip)
                if problem is not None:
                    return problem
                argv, cleanup = self._container_run(what)
                env = dict(os.environ)  # the node's own, for its container CLI; the job's is in argv
            cwd = self._attempt_dir / f"{plan.name}.cwd"
            cwd.mkdir(exist_ok=True)
            keeper = [
                *(sys.executable, "-m", "customjobs.execution.backends.local.keeper"),
                *(str(os.getpid()), str(self._prefix), json.dumps(cleanup), "--"),
            ]
            with open(self._log, "ab") as out:
                self._proc = subprocess.Popen(
                    [*keeper, *argv],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=cwd,
                    env=env,
                    start_new_session=True,
                )
        except Exception as exc:  # the user's spec, or this node, cannot run it: say which
            return f"The replica {plan.name} could not be started on Ray node {self._node_ip}: {exc}"
        return None

    def _host_process(self, what: ReplicaStart) -> tuple[list[str], dict[str, str]]:
        """The command and environment of a host-process replica, as the process runtime's."""
        argv = list(replica_argv(what.plan, what.pool, what.options))
        self._job_dir.mkdir(parents=True, exist_ok=True)
        # Replicas of one job on one node share its environment: one of them makes it.
        with open(self._job_dir / "environment.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            job_env = job_environment(self._job_dir, what.options, os.environ.get("PATH", ""))
        return argv, {**os.environ, **job_env, **what.plan.env}

    def _container_run(self, what: ReplicaStart) -> tuple[list[str], list[str]]:
        """`run` of the replica's container, and the command that removes it."""
        import ray

        assert what.container is not None
        gpus = [int(i) for i in ray.get_gpu_ids() if str(i).isdigit()]
        replica = container_replica(
            what.container, what.spec, self._job_id, self._attempt, what.plan, what.pool,
            node_grant(what.grant, gpus), self._attempt_dir / "packages",
        )  # fmt: skip
        self._cli = what.container.cli()
        self._container = replica.name
        self._cli.remove([replica.name])  # a leftover of an interrupted launch must not block it
        return replica.argv, self._cli.argv("rm", "--force", replica.name)

    def started(self) -> bool:
        return self._proc is not None

    def poll(self, offset: int, limit: int) -> Progress:
        # The exit status first: a log read after it holds every line the replica wrote.
        code = self._exit_code()
        try:
            with open(self._log, "rb") as f:
                f.seek(offset)
                chunk = f.read(limit + 1)
        except FileNotFoundError:
            chunk = b""
        more = len(chunk) > limit
        return Progress(chunk[:limit], code, more, self._group_alive())

    def _keeper_alive(self) -> bool:
        """The launcher, until it exits; then the keeper it forked (its pid file is written
        before the launcher exits). Asked of /proc/PID, not by listing /proc, which may not
        show a process forked a moment ago."""
        if self._proc is None:
            return False
        if self._proc.poll() is None:
            return True
        keeper = read_pid(self._prefix)
        return keeper is not None and procfs.is_alive(keeper[0])

    def _exit_code(self) -> int | None:
        code = read_exit(self._prefix)
        if code is not None or self._proc is None or self._keeper_alive():
            return code
        # The keeper is gone: it wrote its status just before it ended, or it was killed
        # (SIGKILL to the group, by a forced stop) and a shell would say 137.
        code = read_exit(self._prefix)
        return 128 + signal.SIGKILL if code is None else code

    def cleanup(self) -> None:
        """The attempt is over and its log is home: drop its container and its files on this
        node (the job's environment stays for a restart of the job)."""
        if self._group_alive():
            return
        if self._cli is not None and self._container is not None:
            self._cli.remove([self._container])
        shutil.rmtree(self._attempt_dir, ignore_errors=True)

    def stop(self, force: bool) -> None:
        # The container first: it outlives a `run` client killed outright.
        if self._cli is not None and self._container is not None:
            self._cli.kill([self._container], "KILL" if force else "TERM")
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL if force else signal.SIGTERM)

    def _group_alive(self) -> bool:
        """Some process of the replica is left: the keeper, what the command left behind, or
        (once those are gone) a container that could not be removed yet."""
        if self._proc is None:
            return False
        if self._keeper_alive() or procfs.group_alive(self._proc.pid):
            return True
        if self._cli is None or self._container is None:
            return False
        # Removed before the end is reported, as the container backend does: a job recorded
        # as ended leaves no container behind, even if the server dies right after.
        self._cli.remove([self._container])
        state = self._cli.states([self._container]).get(self._container)
        return state is not None and state.running
