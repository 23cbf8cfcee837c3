"""The podman or docker command line, driven through argument vectors (never a shell string).

This is the one place that knows the CLI's flags and output formats, so the backend
above it speaks of containers, not of flags. Podman and Docker agree on nearly all of
`run`; where they differ (how --entrypoint takes several words, how a missing image is
reported) the difference lives here. Global flags (`--runtime runc`, `--cgroup-manager`)
come from settings, because what a machine needs is that machine's business.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)

FLAVOURS = ("podman", "docker")
# How long one CLI call (inspect, kill, rm) may take before we give up on it.
CLI_TIMEOUT_S = 60.0
# Pulling an image may be slow; it only happens when a setting allows it.
PULL_TIMEOUT_S = 1800.0
# How long auto-detection waits for `docker info` to find a daemon.
DETECT_TIMEOUT_S = 10.0
LABEL_JOB = "customjobs.job"
LABEL_ATTEMPT = "customjobs.attempt"
LABEL_REPLICA = "customjobs.replica"


class ContainerCliError(Exception):
    """The container CLI could not be run, or failed in a way that is not about the job."""


@dataclass(frozen=True)
class ContainerState:
    """What `inspect` says about one container: `status` is running, exited, created, ..."""

    status: str
    exit_code: int
    oom_killed: bool = False

    @property
    def running(self) -> bool:
        # created/configured/initialized: about to run; paused: still holds its processes.
        return self.status not in ("exited", "stopped", "dead", "removing")

    @property
    def started(self) -> bool:
        """Past creation: it runs, or ran and ended; a signal now reaches its processes."""
        return self.status not in ("created", "configured", "initialized")


@dataclass(frozen=True)
class RunSpec:
    """One replica's container: everything `run` needs, nothing CLI-specific."""

    name: str
    image: str
    command: tuple[str, ...]
    args: tuple[str, ...]
    env: Mapping[str, str]
    labels: Mapping[str, str]
    # (host path, container path) bind mounts.
    mounts: tuple[tuple[str, str], ...] = ()


def container_name(job_id: int, attempt: int, replica: str) -> str:
    return f"customjobs-{job_id}-{attempt}-{replica}"


def detect() -> str | None:
    """podman when it is on PATH; docker when its daemon answers; else None."""
    if shutil.which("podman"):
        return "podman"
    if shutil.which("docker"):
        # The docker client is often installed without a daemon: only a live daemon counts.
        try:
            info = subprocess.run(
                ["docker", "info"], capture_output=True, timeout=DETECT_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        if info.returncode == 0:
            return "docker"
    return None


class ContainerCli:
    def __init__(self, flavour: str, program: str, global_flags: Sequence[str] = ()) -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"unknown container CLI flavour {flavour!r}; known: {', '.join(FLAVOURS)}")
        self.flavour = flavour
        self.program = program
        self.global_flags = tuple(global_flags)

    def argv(self, *args: str) -> list[str]:
        # The CLI's own warnings would land in the job's log, between the user's lines:
        # errors only (a flag in global_flags, coming later, still overrides this).
        return [self.program, "--log-level=error", *self.global_flags, *args]

    def run_argv(self, spec: RunSpec, run_flags: Sequence[str] = (), pull: bool = False) -> list[str]:
        """`run` in the foreground: the caller's stdout receives the container's output."""
        argv = self.argv("run", "--name", spec.name, "--network=host")
        argv.append("--pull=missing" if pull else "--pull=never")
        for key, value in spec.labels.items():
            argv += ["--label", f"{key}={value}"]
        for key, value in spec.env.items():
            argv += ["--env", f"{key}={value}"]
        for host, inside in spec.mounts:
            argv += ["--volume", f"{host}:{inside}"]
        argv += run_flags
        rest = list(spec.args)
        if spec.command:
            # Kubernetes semantics: command replaces ENTRYPOINT (and drops CMD), args replace CMD.
            if self.flavour == "podman":
                argv.append("--entrypoint=" + json.dumps(list(spec.command)))
            else:
                # Docker's --entrypoint is one word; the others lead the arguments.
                argv.append("--entrypoint=" + spec.command[0])
                rest = [*spec.command[1:], *rest]
        argv.append(spec.image)
        return argv + rest

    def image_present(self, image: str) -> bool:
        result = self._call("image", "inspect", "--format", "{{.Id}}", image)
        if result.returncode == 0:
            return True
        text = (result.stdout + result.stderr).lower()
        if any(s in text for s in ("image not known", "no such image", "no such object")):
            return False
        raise ContainerCliError(f"`{self.program} image inspect {image}` failed: {result.stderr.strip()}")

    def pull(self, image: str) -> None:
        result = self._call("pull", image, timeout_s=PULL_TIMEOUT_S)
        if result.returncode != 0:
            raise ContainerCliError(f"`{self.program} pull {image}` failed: {result.stderr.strip()}")

    def kill(self, names: Sequence[str], signal: str) -> None:
        """Best effort: a container that has already exited is no error here."""
        if names:
            self._call("kill", "--signal", signal, *names)

    def remove(self, names: Sequence[str]) -> None:
        """Kill and remove; a container that is already gone is no error here."""
        if names:
            result = self._call("rm", "--force", *names)
            if result.returncode != 0:
                log.warning("%s rm %s: %s", self.program, " ".join(names), result.stderr.strip())

    def states(self, names: Sequence[str]) -> dict[str, ContainerState]:
        """The containers among `names` that exist; missing ones are simply absent."""
        if not names:
            return {}
        fmt = "{{.Name}}\t{{.State.Status}}\t{{.State.ExitCode}}\t{{.State.OOMKilled}}"
        # A missing name makes inspect exit non-zero, yet it still prints the others.
        result = self._call("inspect", "--type", "container", "--format", fmt, *names)
        found = {}
        for line in result.stdout.splitlines():
            parts = line.split("\t")
            if len(parts) != 4:
                continue
            name, status, code, oom = parts
            found[name.lstrip("/")] = ContainerState(status, int(code), oom == "true")
        return found

    def _call(self, *args: str, timeout_s: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
        argv = self.argv(*args)
        try:
            return subprocess.run(
                argv, capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL, check=False
            )
        except FileNotFoundError as exc:
            raise ContainerCliError(f"the container CLI {self.program!r} is not installed") from exc
        except subprocess.TimeoutExpired as exc:
            raise ContainerCliError(f"`{' '.join(argv)}` did not finish within {timeout_s:g}s") from exc
