"""Group commit for SQLite: the writes that wait for the one writer go in together.

SQLite has a single writer. When many threads write at once (32 clients creating jobs, the
scheduler's launch threads moving them), each used to wait its turn on a lock and then run
its own transaction: one BEGIN, one COMMIT and one hand-over of the lock (a wake-up of a
thread that must then win the GIL) per write. Here the thread that finds the writer free
becomes the leader: it takes every write queued so far, runs them one after another in
one transaction, commits, and only then answers each of them. A write is acknowledged only
after the commit that holds it, exactly as before, so nothing acknowledged can be lost to a
kill -9; what changes is that one commit carries many writes.

A write is a function of the connection. The writes of one batch run in order, each seeing
the ones before it, as they would in transactions one after another. If any of them raises,
the batch is rolled back and each write runs again in a transaction of its own, so one bad
write fails alone and never takes its neighbours with it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Engine

from customjobs.store.sql.raw_writes import Executes

T = TypeVar("T")

# The most writes one transaction carries: a bound on how long the last of them waits.
MAX_BATCH = 64
_UNSET: Any = object()


class _Write(Generic[T]):
    __slots__ = ("done", "error", "fn", "result")

    def __init__(self, fn: Callable[[Executes], T]) -> None:
        self.fn = fn
        self.done = False
        self.result: Any = _UNSET
        self.error: BaseException | None = None

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        if self.result is _UNSET:
            raise RuntimeError("the writer stopped before this write ran")
        result: T = self.result
        return result


class GroupCommit:
    """The one writer of an engine in this process, shared by grouped and exclusive writes."""

    def __init__(self, engine: Engine, begin: Callable[[], contextlib.AbstractContextManager[Any]]) -> None:
        self.engine = engine
        # The grouped writes' transactions (raw_writes.py on SQLite); exclusive ones are
        # SQLAlchemy's own, for code that reads and decides as it goes.
        self._begin = begin
        self._cond = threading.Condition(threading.Lock())
        self._pending: list[_Write[Any]] = []
        self._busy = False
        self._inside = threading.local()

    def run(self, fn: Callable[[Executes], T]) -> T:
        """fn(conn) in a transaction, possibly shared with other threads' writes; returns (or
        raises) what fn did, once the transaction that holds it has committed."""
        self._not_nested()
        write: _Write[T] = _Write(fn)
        with self._cond:
            self._pending.append(write)
            while self._busy and not write.done:
                self._cond.wait()
            if write.done:  # a leader ran it meanwhile
                return write.outcome()
            self._busy = True
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        try:
            self._inside.active = True
            self._run_batch(batch)
        finally:
            self._release(batch)
        return write.outcome()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[Connection]:
        """A transaction of its own, for writes whose code reads and decides as it goes
        (a delete that rolls back, a lease): it waits for the writer like any write."""
        self._not_nested()
        with self._cond:
            while self._busy:
                self._cond.wait()
            self._busy = True
        try:
            self._inside.active = True
            with self.engine.begin() as conn:
                yield conn
        finally:
            self._release([])

    def _release(self, batch: list[_Write[Any]]) -> None:
        """The writer is free again; the writes it ran are answered (their waiters wake)."""
        self._inside.active = False
        with self._cond:
            for queued in batch:
                queued.done = True
            self._busy = False
            self._cond.notify_all()

    def _run_batch(self, batch: list[_Write[Any]]) -> None:
        if len(batch) == 1:
            self._run_alone(batch[0])
            return
        try:
            with self._begin() as conn:
                results = [write.fn(conn) for write in batch]
        except Exception:
            # Which one failed, and whether the others would have, only their own
            # transactions can tell: nothing of the batch was committed.
            for write in batch:
                self._run_alone(write)
            return
        for write, result in zip(batch, results, strict=True):
            write.result = result

    def _run_alone(self, write: _Write[Any]) -> None:
        try:
            with self._begin() as conn:
                write.result = write.fn(conn)
        except Exception as exc:
            write.error = exc

    def _not_nested(self) -> None:
        # The writer waits for itself forever otherwise: a write inside a write is a bug.
        if getattr(self._inside, "active", False):
            raise RuntimeError("a write was started inside another write on the same engine")
