"""One replica on a Ray node: the object that starts it there and reports on it.

The node's customjobs agent (agent.py) holds one `ReplicaHost` per replica that Ray placed
on the node (a bundle of the job's placement group), so what it reports is that node's:
its address, a port free on it, and the GPUs the agent handed it (gpus.py), which a host
process gets in CUDA_VISIBLE_DEVICES and a container from its runtime. It starts the
replica exactly as the process backend would (the same argv, Python-package bootstrap and
job environment, built here so every path is the node's own) under the keeper
(keeper.py), in a process group of its own, output to a log file on the node; the keeper
watches the agent's process, so the replica dies with it. The server pulls that log home
in chunks from an offset it keeps, so a restarted server, or a chunk lost in transit,
never loses a line.

The agent is detached and named, and keys its hosts by job, attempt and replica
(backend.actor_name): they outlive the server, and a restarted server finds them again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from customjobs.domain.placement import ReplicaAllocation
from customjobs.domain.spec import LaunchSpec, PoolSpec
from customjobs.execution.backends import procfs
from customjobs.execution.backends.base import ShellCommand, ShellUnavailable
from customjobs.execution.backends.containers.cli import ContainerCli
from customjobs.execution.backends.local import keeper as keeper_program
from customjobs.execution.backends.local.process_setup import ProcessOptions, job_environment, replica_argv
from customjobs.execution.backends.local.wrapper import read_exit, read_pid
from customjobs.execution.backends.ray.container import (
    ContainerLaunch,
    container_replica,
    missing_image,
    node_grant,
)
from customjobs.execution.backends.ray.gpus import CUDA_VISIBLE_DEVICES
from customjobs.execution.backends.ray.remote_shell import ShellSessions
from customjobs.execution.backends.shells import container_exec_shell, shell_like_process
from customjobs.execution.environment import ReplicaPlan

# Guards each host's first shell: two opened at once must share one set of sessions.
_SHELLS_LOCK = threading.Lock()


@dataclass(frozen=True)
class Placement:
    """Where Ray put a replica, as the node itself sees it."""

    node_ip: str
    node_id: str
    port: int
    # Another port free on the node: the primary's dashboard (AIP_HTTP_HANDLER_PORT), if asked.
    http_port: int = 0


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


def free_ports(count: int) -> list[int]:
    """Distinct ports free on this node now (held open together, so never the same twice)."""
    with contextlib.ExitStack() as stack:
        sockets = [
            stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)
        ]
        for s in sockets:
            s.bind(("", 0))
        return [int(s.getsockname()[1]) for s in sockets]


class ReplicaHost:
    def __init__(
        self, replica: str, node_root: str, job_id: int, attempt: int, gpu_ids: list[str] | None = None
    ) -> None:
        import ray  # only ever constructed inside a Ray worker (the node's agent)

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
        # The node's devices the agent handed this replica (gpus.py); None: what Ray set.
        self._gpu_ids = gpu_ids
        # cleanup() found nothing of it running and removed its files.
        self._cleaned = False

    def placement(self) -> Placement:
        port, http_port = free_ports(2)
        return Placement(self._node_ip, self._node_id, port, http_port)

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
            # The keeper is stdlib only: run as a file without `site` (-I -S), it starts in half
            # the time `-m` takes (no .pth files, no package imports) and the replica sooner.
            keeper = [
                *(sys.executable, "-I", "-S", keeper_program.__file__),
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
        # The replica's own devices, "" for none: the agent's environment shows the whole node's.
        gpus = {} if self._gpu_ids is None else {CUDA_VISIBLE_DEVICES: ",".join(self._gpu_ids)}
        return argv, {**os.environ, **job_env, **gpus, **what.plan.env}

    def _container_run(self, what: ReplicaStart) -> tuple[list[str], list[str]]:
        """`run` of the replica's container, and the command that removes it."""
        import ray

        assert what.container is not None
        given = ray.get_gpu_ids() if self._gpu_ids is None else self._gpu_ids
        gpus = [int(i) for i in given if str(i).isdigit()]
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

    def poll(self, offset: int, limit: int, wait_s: float = 0.0) -> Progress:
        """The log after `offset`, and the exit status once there is one. With `wait_s`, the
        answer waits that long for the keeper to end, so the server hears of an exit at once."""
        self._await_keeper(wait_s)
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

    def _await_keeper(self, wait_s: float) -> None:
        """Until the keeper has ended, or `wait_s`: a pidfd wakes this on its exit, no polling."""
        if self._proc is None or wait_s <= 0:
            return
        deadline = time.monotonic() + wait_s
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(wait_s)  # the launcher: it writes the keeper's pid, then exits
        keeper = read_pid(self._prefix)
        if keeper is None:
            return
        try:  # until it is gone, not just until its exit file: it still counts as the group's
            fd = os.pidfd_open(keeper[0])
        except OSError:  # ended already
            return
        try:
            select.select([fd], [], [], max(deadline - time.monotonic(), 0.0))
        finally:
            os.close(fd)

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
        self._cleaned = True

    def stop(self, force: bool) -> None:
        # The container first: it outlives a `run` client killed outright.
        if self._cli is not None and self._container is not None:
            self._cli.kill([self._container], "KILL" if force else "TERM")
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL if force else signal.SIGTERM)

    def close(self) -> None:
        """Its agent drops it: kill what is left of it. The keeper watches the agent, which
        stays, so nothing else would end a replica that was not stopped."""
        # Cleaned up: nothing of it was left then (and asking a container CLI again costs).
        if not self._cleaned and self._group_alive():
            self.stop(True)

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

    # web-access shells (remote_shell.py; the server's relay is shell_relay.py) -------------

    def shell_open(self, cols: int, rows: int) -> str:
        """Open a shell on this node with what the replica got (its environment and working
        directory, or its container); the session's id for the calls below."""
        return self._shell_sessions().open(self._shell_command(), cols, rows)

    def shell_write(self, session: str, data: bytes) -> None:
        self._shell_sessions().write(session, data)

    def shell_read(self, session: str, timeout_s: float) -> bytes | None:
        return self._shell_sessions().read(session, timeout_s)

    def shell_resize(self, session: str, cols: int, rows: int) -> None:
        self._shell_sessions().resize(session, cols, rows)

    def shell_close(self, session: str) -> None:
        """End the shell and everything it started; the replica runs on."""
        self._shell_sessions().close(session)

    def _shell_sessions(self) -> ShellSessions:
        # Made on first use (under a lock: the agent runs calls in threads), so hosts
        # started before shells existed need nothing new.
        with _SHELLS_LOCK:
            sessions: ShellSessions | None = getattr(self, "_shells", None)
            if sessions is None:
                sessions = self._shells = ShellSessions()
        return sessions

    def _shell_command(self) -> ShellCommand:
        if self._exit_code() is not None or not self._keeper_alive():
            raise ShellUnavailable(f"The replica {self._replica} is not running.")
        if self._cli is not None and self._container is not None:
            return container_exec_shell(self._cli, self._container, self._replica)
        keeper = read_pid(self._prefix)
        if keeper is None:
            raise ShellUnavailable(f"The replica {self._replica} has not started yet.")
        # The keeper was started with the replica's environment and in its directory.
        return shell_like_process(keeper[0], self._replica)
