"""The job a log line is about, carried by a context variable rather than by every call.

The scheduler and the service set it around the work they do for one job; a logging filter
copies it onto every record, so a line logged deep inside (a transition, a backend) names
its job too, and the JSON formatter gives it a field of its own.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class JobRef:
    name: str
    attempt: int | None = None


_current: ContextVar[JobRef | None] = ContextVar("customjobs_job", default=None)


@contextlib.contextmanager
def job_context(name: str, attempt: int | None = None) -> Iterator[None]:
    token = _current.set(JobRef(name, attempt))
    try:
        yield
    finally:
        _current.reset(token)


class JobContextFilter(logging.Filter):
    """Sets `record.job` and `record.attempt` (None outside any job) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        ref = _current.get()
        if not hasattr(record, "job"):
            record.job = ref.name if ref else None
        if not hasattr(record, "attempt"):
            record.attempt = ref.attempt if ref else None
        return True
