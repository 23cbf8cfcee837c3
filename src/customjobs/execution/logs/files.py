"""Replica logs on disk: one file per replica per attempt, read whole, tailed or followed.

Files are appended to by the replica processes themselves; readers only ever hand out
complete lines, so a follower never shows half a line twice. Readers take their bytes
from a ByteSource: plain files by default, or kms/logs.py's, which also opens the logs
of an encrypted job that were sealed when it ended.
"""

from __future__ import annotations

import shutil
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

LOG_SUFFIX = ".log"
TAIL_READ_BYTES = 64 * 1024


class ByteSource(Protocol):
    def read_from(self, path: Path, offset: int) -> bytes:
        """The file's bytes from `offset` to its end; FileNotFoundError when there is no file."""
        ...


class PlainFiles:
    def read_from(self, path: Path, offset: int) -> bytes:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read()


PLAIN_FILES = PlainFiles()


@dataclass(frozen=True)
class LogLayout:
    jobs_dir: Path

    def job_dir(self, job_id: int) -> Path:
        return self.jobs_dir / str(job_id)

    def attempt_dir(self, job_id: int, attempt: int) -> Path:
        return self.job_dir(job_id) / f"attempt-{attempt}"

    def replica_logs(self, job_id: int, replica: str | None = None) -> list[tuple[str, Path]]:
        """(replica, path) for every log of the job, attempt by attempt, replicas in order."""
        result = []
        job_dir = self.job_dir(job_id)
        if not job_dir.is_dir():
            return []
        attempts = sorted(job_dir.glob("attempt-*"), key=lambda p: int(p.name.split("-")[1]))
        for attempt in attempts:
            for path in sorted(attempt.glob(f"*{LOG_SUFFIX}"), key=_replica_order):
                name = path.name.removesuffix(LOG_SUFFIX)
                if replica is None or name == replica:
                    result.append((name, path))
        return result

    def remove_job(self, job_id: int) -> None:
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)


def _replica_order(path: Path) -> tuple[int, int]:
    pool, _, index = path.name.removesuffix(LOG_SUFFIX).removeprefix("workerpool").partition("-")
    return (int(pool), int(index)) if pool.isdigit() and index.isdigit() else (99, 0)


def tail(path: Path, lines: int) -> list[str]:
    """The last `lines` lines of a file, reading at most its last TAIL_READ_BYTES."""
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - TAIL_READ_BYTES))
            data = f.read()
    except FileNotFoundError:
        return []
    text = data.decode("utf-8", errors="replace")
    return list(deque(text.splitlines(), maxlen=lines))


@dataclass
class LineReader:
    """Reads a growing file from an offset, complete lines only."""

    path: Path
    offset: int = 0
    source: ByteSource = PLAIN_FILES

    def read_lines(self, final: bool = False) -> list[str]:
        """New complete lines; with `final`, a last unterminated line too (the writer is gone)."""
        try:
            data = self.source.read_from(self.path, self.offset)
        except FileNotFoundError:
            return []
        end = len(data) if final else data.rfind(b"\n") + 1
        if end <= 0:
            return []
        self.offset += end
        return data[:end].decode("utf-8", errors="replace").splitlines()


def read_lines_with_offsets(path: Path, source: ByteSource = PLAIN_FILES) -> list[tuple[int, str]]:
    """Every line of a log with the byte offset it starts at (a last unterminated line too)."""
    try:
        data = source.read_from(path, 0)
    except FileNotFoundError:
        return []
    result = []
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        stop = len(data) if end < 0 else end
        result.append((start, data[start:stop].decode("utf-8", errors="replace")))
        start = stop + 1
    return result
