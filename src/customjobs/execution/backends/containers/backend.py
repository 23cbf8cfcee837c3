"""The container backend: every replica a podman (or docker) container on the host network.

Each replica runs `podman run` attached, in the foreground, under the same /bin/sh
wrapper the process backend uses (wrapper.py). Why attached rather than `run -d` plus
a log follower: the container's stdout and stderr flow from conmon through the attached
client straight into the replica's log file, and the client exits with the container's
exit code, which the wrapper writes to the exit file. So the log and the exit status
are on disk whether or not a server is running, a killed server loses nothing, and a
restarted one re-attaches from the stored handle exactly as the process backend does.
The one thing that could break the chain, the client dying on its own, is caught by
asking `inspect` for the container's exit code (poll).

Replicas share the host network (`--network=host`), so the 127.0.0.1:PORT addresses in
CLUSTER_SPEC reach them; a local baseOutputDirectory is bind-mounted at its own path.
Containers are removed before a job's end is recorded (all_stopped), so a cancel, a
timeout or a crash right after the end leaves no container behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from customjobs.config import Settings
from customjobs.execution.backends import limits, procfs
from customjobs.execution.backends.base import (
    ExecutionBackend,
    Handle,
    LaunchError,
    LaunchRequest,
    ReplicaFact,
    ReplicaStatus,
    ShellCommand,
)
from customjobs.execution.backends.containers.cli import (
    LABEL_ATTEMPT,
    LABEL_JOB,
    LABEL_REPLICA,
    ContainerCli,
    RunSpec,
    container_name,
    detect,
)
from customjobs.execution.backends.containers.tasks import (
    PACKAGES_MOUNT,
    bucket_mount,
    python_package_command,
)
from customjobs.execution.backends.local.backend import LOCAL_HOST, LocalProcessBackend, free_ports
from customjobs.execution.backends.local.wrapper import Wrappers, read_exit, read_pid
from customjobs.execution.backends.shells import container_shell
from customjobs.execution.environment import local_output_path, make_local_output_dirs, plan_replicas

log = logging.getLogger(__name__)

# How long start() waits for every container to be running (or over) before it returns,
# so that a stop right after start always finds a container to signal.
START_TIMEOUT_S = 60.0
START_POLL_S = 0.05


class ContainerRuntimeMissing(RuntimeError):
    """The configured container CLI is not installed: a start-up error, never a silent fallback."""


class ContainerBackend:
    def __init__(self, settings: Settings, flavour: str, notify: Callable[[], None] = lambda: None) -> None:
        program = settings.container_cli or flavour
        if shutil.which(program) is None:
            raise ContainerRuntimeMissing(
                f"--runtime {flavour}: the {program!r} command is not on PATH "
                "(install it, or run `scripts/setup-podman.sh` as root on Debian)"
            )
        self.name = flavour
        self.cli = ContainerCli(flavour, program, settings.container_runtime_flags)
        self.run_flags = settings.container_run_flags
        self.pull = settings.container_pull
        self.buckets_dir = settings.buckets_dir
        self.server_url = settings.server_url
        self._wrappers = Wrappers(notify)
        # Containers this server already removed, so release() need not call the CLI again.
        self._removed: set[str] = set()
        # Containers whose attached client vanished: warned about once, not on every pass.
        self._orphans_warned: set[str] = set()

    def place(self, request: LaunchRequest) -> str | None:
        return None  # admission counted this machine exactly: what it admitted fits now

    def unplace(self, job_id: int, attempt: int) -> None:
        return None

    def start(self, request: LaunchRequest) -> Handle:
        spec = request.spec
        self._check_images(request)
        names = [n for p in spec.pools for n in p.replica_names()]
        ports = free_ports(len(names) + 1)  # the last one: the primary's dashboard, if it has one
        hosts = {n: f"{LOCAL_HOST}:{port}" for n, port in zip(names, ports, strict=False)}
        dashboard = ports[-1] if spec.enable_dashboard_access else None
        plans = plan_replicas(spec, request.job_id, request.project, hosts, dashboard)
        pools = {p.index: p for p in spec.pools}
        request.workdir.mkdir(parents=True, exist_ok=True)
        limits.write_notes(request)
        make_local_output_dirs(spec.base_output_uri)
        staged = request.workdir / "packages"
        staged.mkdir(exist_ok=True)
        mounts = (
            *output_mounts(spec.base_output_uri),
            bucket_mount(self.buckets_dir),
            (str(staged), PACKAGES_MOUNT),
        )
        containers = [container_name(request.job_id, request.attempt, n) for n in names]
        # Names are unique per attempt; a leftover of an interrupted launch must not block this one.
        self.cli.remove(containers)
        replicas: list[dict[str, Any]] = []
        for plan, container in zip(plans, containers, strict=True):
            # plan.argv is command + args, each word $(VAR)-expanded: split it back at the seam.
            pool = pools[plan.pool_index]
            seam = len(pool.command)
            command = plan.argv[:seam]
            if pool.python_package is not None:
                command = python_package_command(pool.python_package, staged)
            run = RunSpec(
                name=container,
                image=pool.image_uri,
                command=command,
                args=plan.argv[seam:],
                env={
                    **plan.env,
                    "STORAGE_EMULATOR_HOST": self.server_url,
                    **limits.container_gpu_env(request.grant(plan.name)),
                },
                labels={
                    LABEL_JOB: str(request.job_id),
                    LABEL_ATTEMPT: str(request.attempt),
                    LABEL_REPLICA: plan.name,
                },
                mounts=mounts,
            )
            prefix = request.workdir / plan.name
            # The grant's limits and GPUs first: the user's run flags may still override them.
            grant_flags = limits.container_flags(self.cli.flavour, request.grant(plan.name))
            argv = self.cli.run_argv(run, (*grant_flags, *self.run_flags), self.pull)
            try:
                pid = self._wrappers.spawn(prefix, argv, request.log_path(plan.name), None)
            except OSError as exc:
                self._abandon(replicas)
                raise LaunchError(f"The replica {plan.name} could not be started: {exc}") from exc
            replicas.append({"name": plan.name, "pid": pid, "prefix": str(prefix), "container": container})
        handle: Handle = {"backend": self.name, "replicas": replicas, "started_s": time.time()}
        handle["dashboard_port"] = dashboard
        self._wait_started(replicas)
        return handle

    def poll(self, handle: Handle) -> list[ReplicaFact]:
        started_s = _started_s(handle)
        facts = []
        for replica in handle["replicas"]:
            name, pid, prefix = replica["name"], int(replica["pid"]), Path(replica["prefix"])
            code = read_exit(prefix)
            if code is not None:
                facts.append(
                    ReplicaFact(name, ReplicaStatus.EXITED, code, oom_killed=self._oom(replica, code))
                )
            elif self._wrappers.alive(pid, started_s):
                facts.append(ReplicaFact(name, ReplicaStatus.RUNNING))
            else:
                facts.append(self._fact_without_wrapper(replica))
        return facts

    def stop(self, handle: Handle, force: bool) -> None:
        """SIGTERM (or SIGKILL) to each container's processes; the scheduler owns the grace period.

        `kill --signal TERM` rather than `stop -t GRACE`: it returns at once instead of
        blocking the scheduler for the grace period, and the scheduler already escalates
        to a forced stop after `stop_grace_s`.
        """
        live = [r for r in handle["replicas"] if read_exit(Path(r["prefix"])) is None]
        containers = [r["container"] for r in live if r.get("container")]
        self.cli.kill(containers, "KILL" if force else "TERM")
        for replica in live:
            if not replica.get("container") and procfs.group_alive(int(replica["pid"])):
                # A host process started by the process backend before a restart with this one.
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(int(replica["pid"]), signal.SIGKILL if force else signal.SIGTERM)
        if not force:
            return
        # A client still alive with no running container (stuck creating or pulling) is ended
        # too; whatever it leaves behind is removed by all_stopped/release.
        states = self.cli.states(containers)
        started_s = _started_s(handle)
        for replica in live:
            state = states.get(replica.get("container", ""))
            pid = int(replica["pid"])
            if (state is None or not state.running) and self._wrappers.alive(pid, started_s):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)

    def all_stopped(self, handle: Handle) -> bool:
        """No wrapper left, and no container either: they are removed here, before the end is recorded."""
        started_s = _started_s(handle)
        if any(self._wrappers.alive(int(r["pid"]), started_s) for r in handle["replicas"]):
            return False
        containers = [r["container"] for r in handle["replicas"] if r.get("container")]
        pending = [c for c in containers if c not in self._removed]
        if pending:
            self.cli.remove(pending)
            left = self.cli.states(pending)
            if any(state.running for state in left.values()):
                return False
            self._removed.update(c for c in pending if c not in left)
        return True

    def reattach(self, request: LaunchRequest, names: list[str]) -> Handle | None:
        """The replicas a launch interrupted by a server crash did start, from their pid files."""
        replicas, newest = [], 0.0
        for name in names:
            prefix = request.workdir / name
            found = read_pid(prefix)
            if found is None:
                continue
            pid, written_s = found
            newest = max(newest, written_s)
            container = container_name(request.job_id, request.attempt, name)
            replicas.append({"name": name, "pid": pid, "prefix": str(prefix), "container": container})
        if not replicas:
            return None
        return {"backend": self.name, "replicas": replicas, "started_s": newest}

    def release(self, handle: Handle) -> None:
        containers = [r["container"] for r in handle["replicas"] if r.get("container")]
        pending = [c for c in containers if c not in self._removed]
        if pending:
            self.cli.remove(pending)
        self._removed.difference_update(containers)
        self._orphans_warned.difference_update(containers)
        for replica in handle["replicas"]:
            self._wrappers.forget(int(replica["pid"]))

    def shell_command(self, handle: Handle, replica: str) -> ShellCommand:
        return container_shell(self.cli, handle, replica)

    def close(self) -> None:
        """Leave containers running: a restarted server re-attaches to them."""

    # helpers -----------------------------------------------------------------

    def _check_images(self, request: LaunchRequest) -> None:
        spec = request.spec
        for pool in spec.pools:
            if not pool.image_uri:
                raise LaunchError(f"workerpool{pool.index} has no containerSpec.imageUri.")
        for image in dict.fromkeys(p.image_uri for p in spec.pools):
            if self.cli.image_present(image):
                continue
            if not self.pull:
                raise LaunchError(
                    f"The container image {image} was not found locally by {self.name}, and pulling "
                    f"is off: build or load it (`{self.name} build`, `{self.name} import`, "
                    f"`{self.name} pull`), or start the server with --container-pull."
                )
            log.info("job %s: pulling image %s (attempt %s)", request.job_id, image, request.attempt)
            self.cli.pull(image)

    def _wait_started(self, replicas: list[dict[str, Any]]) -> None:
        pending = {r["container"]: r for r in replicas}
        deadline = time.monotonic() + START_TIMEOUT_S
        while pending:
            for container, replica in list(pending.items()):
                # The wrapper ended (the container ran and exited, or `run` itself failed).
                if not self._wrappers.alive(int(replica["pid"]), None):
                    del pending[container]
            for container, state in self.cli.states(list(pending)).items():
                if state.started:
                    pending.pop(container, None)
            if not pending:
                return
            if time.monotonic() > deadline:
                log.warning("containers %s not running after %.0fs", sorted(pending), START_TIMEOUT_S)
                return
            time.sleep(START_POLL_S)

    def _oom(self, replica: dict[str, Any], code: int) -> bool:
        """Whether the runtime says the container was OOM-killed (asked only of failed replicas)."""
        container = replica.get("container")
        if not code or not container:
            return False
        state = self.cli.states([container]).get(container)
        return state is not None and state.oom_killed

    def _fact_without_wrapper(self, replica: dict[str, Any]) -> ReplicaFact:
        """The wrapper is gone and wrote no exit status: ask the container runtime instead."""
        name, prefix = replica["name"], Path(replica["prefix"])
        container: str = replica.get("container", "")
        state = self.cli.states([container]).get(container) if container else None
        code = read_exit(prefix)  # the wrapper may have finished since the first read
        if code is not None:
            return ReplicaFact(name, ReplicaStatus.EXITED, code)
        if state is not None and state.running:
            if container not in self._orphans_warned:
                self._orphans_warned.add(container)
                log.warning(
                    "container %s runs on but its attached client is gone: its output no longer "
                    "reaches %s.log",
                    container,
                    prefix,
                )
            return ReplicaFact(name, ReplicaStatus.RUNNING)
        if state is not None and state.started:
            return ReplicaFact(name, ReplicaStatus.EXITED, state.exit_code, oom_killed=state.oom_killed)
        code = self._wrappers.returncode(int(replica["pid"]))
        if code is not None:
            return ReplicaFact(name, ReplicaStatus.EXITED, code)
        return ReplicaFact(
            name,
            ReplicaStatus.LOST,
            detail=f"the container {container} of replica {name} ended while the server was not "
            "watching it and left no exit status",
        )

    def _abandon(self, replicas: list[dict[str, Any]]) -> None:
        """A launch that failed half-way: kill and remove what it started."""
        self.cli.remove([r["container"] for r in replicas])
        for replica in replicas:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if procfs.group_alive(int(replica["pid"])):
                    os.killpg(int(replica["pid"]), signal.SIGKILL)


def auto_backend(settings: Settings, notify: Callable[[], None]) -> ExecutionBackend:
    """`--runtime auto`: podman, else a docker with a live daemon, else host processes; said in the log."""
    flavour = detect()
    if flavour is None:
        log.info("runtime auto: no podman and no docker daemon found; replicas run as host processes")
        return LocalProcessBackend(notify=notify, settings=settings)
    log.info("runtime auto: replicas run as %s containers", flavour)
    return ContainerBackend(settings, flavour, notify)


def output_mounts(base_uri: str | None) -> tuple[tuple[str, str], ...]:
    """A local baseOutputDirectory, bind-mounted at its own path so AIP_* paths hold inside too."""
    if not base_uri or base_uri.startswith("gs://"):
        return ()
    path = os.path.abspath(local_output_path(base_uri))
    return ((path, path),)


def _started_s(handle: Handle) -> float | None:
    value = handle.get("started_s")
    return float(value) if value is not None else None
