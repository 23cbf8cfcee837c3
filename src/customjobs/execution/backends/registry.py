"""Execution backends by name: the one place that maps a setting to an implementation.

An unknown name is an error at start-up, never a silent fall back to another backend.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from customjobs.config import Settings
from customjobs.execution.backends.base import BackendUnavailable, ExecutionBackend
from customjobs.execution.backends.containers.backend import ContainerBackend, auto_backend
from customjobs.execution.backends.local.backend import LocalProcessBackend

Factory = Callable[[Settings, Callable[[], None]], ExecutionBackend]

BACKENDS: dict[str, Factory] = {
    "process": lambda settings, notify: LocalProcessBackend(notify=notify, settings=settings),
    "podman": lambda settings, notify: ContainerBackend(settings, "podman", notify),
    "docker": lambda settings, notify: ContainerBackend(settings, "docker", notify),
    "auto": auto_backend,
}


class UnknownBackend(BackendUnavailable):
    pass


def make_backend(settings: Settings, notify: Callable[[], None]) -> ExecutionBackend:
    if settings.backend == "ray":
        return _ray_backend(settings, notify)
    if settings.backend != "local":
        raise UnknownBackend(f"unknown backend {settings.backend!r}; known: local, ray")
    factory = BACKENDS.get(settings.runtime)
    if factory is None:
        raise UnknownBackend(f"unknown runtime {settings.runtime!r}; known: {', '.join(sorted(BACKENDS))}")
    return factory(settings, notify)


def _ray_backend(settings: Settings, notify: Callable[[], None]) -> ExecutionBackend:
    """Ray is an optional extra (`customjobs[ray]`): imported only when asked for."""
    if settings.runtime not in ("process", "podman", "docker"):
        raise UnknownBackend(
            f"--backend ray with --runtime {settings.runtime}: say process, podman or docker "
            "(what the nodes have cannot be detected from the server)"
        )
    if importlib.util.find_spec("ray") is None:
        raise UnknownBackend("--backend ray needs Ray on this server: pip install 'customjobs[ray]'")
    from customjobs.execution.backends.ray.bridge import RayBridge

    return RayBridge(settings, notify)
