"""Execution backends by name: the one place that maps a setting to an implementation.

An unknown name is an error at start-up, never a silent fall back to another backend.
"""

from __future__ import annotations

from collections.abc import Callable

from customjobs.backends.base import ExecutionBackend
from customjobs.backends.container import ContainerBackend, auto_backend
from customjobs.backends.local import LocalProcessBackend
from customjobs.config import Settings

Factory = Callable[[Settings, Callable[[], None]], ExecutionBackend]

BACKENDS: dict[str, Factory] = {
    "process": lambda settings, notify: LocalProcessBackend(notify=notify, settings=settings),
    "podman": lambda settings, notify: ContainerBackend(settings, "podman", notify),
    "docker": lambda settings, notify: ContainerBackend(settings, "docker", notify),
    "auto": auto_backend,
}


class UnknownBackend(ValueError):
    pass


def make_backend(settings: Settings, notify: Callable[[], None]) -> ExecutionBackend:
    factory = BACKENDS.get(settings.runtime)
    if factory is None:
        raise UnknownBackend(f"unknown runtime {settings.runtime!r}; known: {', '.join(sorted(BACKENDS))}")
    return factory(settings, notify)
