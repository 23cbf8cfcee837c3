"""The interactive shell of web access, as each backend starts it inside a running replica.

A process replica's shell gets the very environment and working directory of the replica:
both are read from /proc of its wrapper, which holds exactly what the replica was started
with (so nothing is recomputed, and a server restarted since the launch gets them right).
A container replica's shell is `podman exec -it` into its container, where the image's
working directory and the container's environment already are.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from customjobs.execution.backends import procfs
from customjobs.execution.backends.base import SHELL_SESSION_ENV, Handle, ShellCommand, ShellUnavailable
from customjobs.execution.backends.containers.cli import ContainerCli
from customjobs.execution.backends.local.wrapper import read_exit

# Interactive, without the user's rc files: they could change the replica's PATH or variables.
_BASH_ARGV = ("--norc", "--noprofile", "-i")
# Inside a container: bash when the image has it (Vertex's shells need it), else sh.
_CONTAINER_SHELL = "command -v bash >/dev/null 2>&1 && exec bash --norc --noprofile -i; exec sh -i"
DEFAULT_TERM = "xterm-256color"


def find_replica(handle: Handle, replica: str) -> dict[str, Any]:
    for entry in handle.get("replicas", []):
        if entry.get("name") == replica:
            return dict(entry)
    raise ShellUnavailable(f"The job has no running replica {replica}.")


def _started_s(handle: Handle) -> float | None:
    value = handle.get("started_s")
    return float(value) if value is not None else None


def _read_environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    env = {}
    for item in raw.split(b"\0"):
        name, sep, value = item.partition(b"=")
        if sep and name:
            env[name.decode(errors="replace")] = value.decode(errors="replace")
    return env


def interactive_env(env: dict[str, str], replica: str) -> dict[str, str]:
    """The replica's environment plus what a terminal needs, and a prompt naming the replica."""
    return {**env, "TERM": env.get("TERM") or DEFAULT_TERM, "PS1": f"{replica}$ "}


def host_shell_argv() -> tuple[str, ...]:
    bash = shutil.which("bash")
    return (bash, *_BASH_ARGV) if bash else ("/bin/sh", "-i")


def process_shell(handle: Handle, replica: str) -> ShellCommand:
    """A host shell with the environment and working directory of a process replica."""
    entry = find_replica(handle, replica)
    pid, prefix = int(entry["pid"]), Path(str(entry["prefix"]))
    if read_exit(prefix) is not None or not procfs.is_alive(pid, _started_s(handle)):
        raise ShellUnavailable(f"The replica {replica} is not running.")
    return shell_like_process(pid, replica)


def shell_like_process(pid: int, replica: str) -> ShellCommand:
    """A host shell with the environment and working directory process `pid` started with
    (a replica's wrapper or keeper: what the replica itself got)."""
    try:
        env = _read_environ(pid)
        cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError as exc:
        raise ShellUnavailable(f"The environment of replica {replica} cannot be read: {exc}") from exc
    return ShellCommand(host_shell_argv(), interactive_env(env, replica), cwd)


def container_shell(cli: ContainerCli, handle: Handle, replica: str) -> ShellCommand:
    """`exec -it` into the replica's container; the session token passes through by name."""
    entry = find_replica(handle, replica)
    container = str(entry.get("container") or "")
    if not container:
        # A host process a process backend started before this server restarted with containers.
        return process_shell(handle, replica)
    state = cli.states([container]).get(container)
    if state is None or not state.running:
        raise ShellUnavailable(f"The container of replica {replica} is not running.")
    return container_exec_shell(cli, container, replica)


def container_exec_shell(cli: ContainerCli, container: str, replica: str) -> ShellCommand:
    """`exec -it` into a running container (the caller checked it runs)."""
    argv = cli.argv(
        "exec", "--interactive", "--tty", "--env", SHELL_SESSION_ENV, "--env", f"TERM={DEFAULT_TERM}"
    )
    argv += ["--env", f"PS1={replica}$ ", container, "/bin/sh", "-c", _CONTAINER_SHELL]
    return ShellCommand(tuple(argv), {**os.environ, "TERM": DEFAULT_TERM}, None)
