"""The process backend: every replica an OS process in its own process group.

Each replica runs under a tiny /bin/sh wrapper that records its pid and, when the
user's command ends, its exit status, in files beside its log. Output goes straight
from the process to its log file. So nothing depends on the server staying alive: a
server killed with -9 and started again re-attaches from those files, and the log
keeps every line written while no server was running.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

from customjobs.config import Settings
from customjobs.execution.backends import limits, procfs
from customjobs.execution.backends.base import (
    Handle,
    LaunchError,
    LaunchRequest,
    ReplicaFact,
    ReplicaStatus,
    ShellCommand,
)
from customjobs.execution.backends.local import cgroups
from customjobs.execution.backends.local.process_setup import ProcessOptions, job_environment, replica_argv
from customjobs.execution.backends.local.wrapper import Wrappers, read_exit, read_pid
from customjobs.execution.backends.shells import process_shell
from customjobs.execution.environment import make_local_output_dirs, plan_replicas

log = logging.getLogger(__name__)

LOCAL_HOST = "127.0.0.1"


def free_ports(count: int) -> list[int]:
    """Distinct ports free right now on the loopback interface."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((LOCAL_HOST, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class LocalProcessBackend:
    name = "local"

    def __init__(self, settings: Settings, notify: Callable[[], None] = lambda: None) -> None:
        self._notify = notify
        # Buckets, cached Python environments and this server's URL (process_setup.py).
        self._options = ProcessOptions.from_settings(settings)
        self._wrappers = Wrappers(notify)
        # Where replicas' CPU and memory limits are enforced; None: they are advisory.
        self._cgroups = cgroups.CgroupLimits.at(settings.cgroup_root)

    def place(self, request: LaunchRequest) -> str | None:
        return None  # admission counted this machine exactly: what it admitted fits now

    def unplace(self, job_id: int, attempt: int) -> None:
        return None

    def start(self, request: LaunchRequest) -> Handle:
        spec = request.spec
        names = [n for p in spec.pools for n in p.replica_names()]
        ports = free_ports(len(names) + 1)  # the last one: the primary's dashboard, if it has one
        hosts = {n: f"{LOCAL_HOST}:{port}" for n, port in zip(names, ports, strict=False)}
        dashboard = ports[-1] if spec.enable_dashboard_access else None
        plans = plan_replicas(spec, request.job_id, request.project, hosts, dashboard)
        pools = {p.index: p for p in spec.pools}
        argvs = {plan.name: replica_argv(plan, pools[plan.pool_index], self._options) for plan in plans}
        for plan in plans:
            if not argvs[plan.name]:
                raise LaunchError(
                    f"The replica {plan.name} has no command: the process runtime runs "
                    "containerSpec.command + args on the host, and both are empty."
                )
        request.workdir.mkdir(parents=True, exist_ok=True)
        limits.write_notes(request)
        make_local_output_dirs(spec.base_output_uri)
        # The attempt's folder is inside the job's, which keeps the job's Python environment.
        job_env = job_environment(request.workdir.parent, self._options, os.environ.get("PATH", ""))
        replicas: list[dict[str, object]] = []
        for plan in plans:
            prefix = request.workdir / plan.name
            cwd = request.workdir / f"{plan.name}.cwd"
            cwd.mkdir(exist_ok=True)
            grant = request.grant(plan.name)
            env = {**os.environ, **job_env, **plan.env, **limits.process_gpu_env(grant)}
            argv, cgroup = argvs[plan.name], None
            if self._cgroups is not None and grant is not None:
                cgroup = self._cgroups.create(f"job-{request.job_id}-{request.attempt}-{plan.name}", grant)
                argv = argv if cgroup is None else self._cgroups.wrap(cgroup, argv)
            try:
                pid = self._wrappers.spawn(prefix, argv, request.log_path(plan.name), env, cwd=cwd)
            except OSError as exc:
                self.stop({"replicas": replicas}, force=True)
                raise LaunchError(f"The replica {plan.name} could not be started: {exc}") from exc
            replica: dict[str, object] = {"name": plan.name, "pid": pid, "prefix": str(prefix)}
            if cgroup is not None:
                replica["cgroup"] = str(cgroup)
            replicas.append(replica)
        started = time.time()
        return {"backend": self.name, "replicas": replicas, "started_s": started, "dashboard_port": dashboard}

    def poll(self, handle: Handle) -> list[ReplicaFact]:
        return [_with_oom(self._fact(r, handle.get("started_s")), r) for r in handle["replicas"]]

    def stop(self, handle: Handle, force: bool) -> None:
        sig = signal.SIGKILL if force else signal.SIGTERM
        for replica in handle["replicas"]:
            pid = replica["pid"]
            if procfs.group_alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, sig)

    def all_stopped(self, handle: Handle) -> bool:
        return not any(procfs.group_alive(r["pid"]) for r in handle["replicas"])

    def reattach(self, request: LaunchRequest, names: list[str]) -> Handle | None:
        """Find the replicas of a launch the server died in the middle of, from their pid files."""
        replicas, newest = [], 0.0
        for name in names:
            found = read_pid(request.workdir / name)
            if found is None:
                continue
            pid, written_s = found
            newest = max(newest, written_s)
            replicas.append({"name": name, "pid": pid, "prefix": str(request.workdir / name)})
        if not replicas:
            return None
        return {"backend": self.name, "replicas": replicas, "started_s": newest}

    def release(self, handle: Handle) -> None:
        for replica in handle["replicas"]:
            self._wrappers.forget(int(replica["pid"]))
            if replica.get("cgroup"):
                cgroups.remove(Path(replica["cgroup"]))

    def shell_command(self, handle: Handle, replica: str) -> ShellCommand:
        return process_shell(handle, replica)

    def close(self) -> None:
        """Leave replicas running: a restarted server re-attaches to them."""

    def _fact(self, replica: dict[str, object], started_s: object) -> ReplicaFact:
        name = str(replica["name"])
        pid = int(str(replica["pid"]))
        prefix = Path(str(replica["prefix"]))
        code = read_exit(prefix)
        if code is not None:
            return ReplicaFact(name, ReplicaStatus.EXITED, code)
        killed = self._wrappers.returncode(pid)
        if killed is not None:
            # The wrapper may have finished between the two reads; if not, it was itself
            # killed (a stop, or an outside kill) and its shell-style status stands.
            recorded = read_exit(prefix)
            return ReplicaFact(name, ReplicaStatus.EXITED, killed if recorded is None else recorded)
        started = float(str(started_s)) if started_s is not None else None
        if self._wrappers.alive(pid, started):
            return ReplicaFact(name, ReplicaStatus.RUNNING)
        code = read_exit(prefix)
        if code is not None:
            return ReplicaFact(name, ReplicaStatus.EXITED, code)
        return ReplicaFact(
            name,
            ReplicaStatus.LOST,
            detail=f"the process of replica {name} (pid {pid}) ended while the server was not "
            "watching it and left no exit status",
        )


def _with_oom(fact: ReplicaFact, replica: dict[str, object]) -> ReplicaFact:
    """An exit that the OOM killer caused, as its cgroup's memory.events tells."""
    cgroup = replica.get("cgroup")
    exited = fact.status is ReplicaStatus.EXITED and bool(fact.exit_code)
    if exited and cgroup and cgroups.oom_killed(Path(str(cgroup))):
        return dataclasses.replace(fact, oom_killed=True)
    return fact
