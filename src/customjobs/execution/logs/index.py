"""When each part of a replica log was first seen: the timestamps log files lack.

Replicas write their logs straight to files (so nothing depends on the server), which
carry no times. The indexer notes, every fraction of a second, how far each running
replica's log has grown and when: `{replica}.log.idx` holds lines `END_OFFSET TIME_US`,
meaning the bytes before END_OFFSET had appeared by TIME_US. A line's timestamp is that
of the chunk holding its first byte: within one tick of the truth while a server runs,
and the restart time for lines written while none did.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path

INDEX_SUFFIX = ".idx"


def index_path(log_path: Path) -> Path:
    return log_path.with_name(log_path.name + INDEX_SUFFIX)


@dataclass
class LogIndexer:
    """Appends to the index of each log it is shown; remembers how far it got."""

    _ends: dict[Path, int] = field(default_factory=dict)

    def index(self, log_path: Path, now_us: int) -> None:
        try:
            size = log_path.stat().st_size
        except FileNotFoundError:
            return
        end = self._ends.get(log_path)
        if end is None:
            end = self._ends[log_path] = _last_end(index_path(log_path))
        if size > end:
            with open(index_path(log_path), "a") as out:
                out.write(f"{size} {now_us}\n")
            self._ends[log_path] = size

    def forget(self, log_path: Path) -> None:
        self._ends.pop(log_path, None)


def _last_end(path: Path) -> int:
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return 0
    for line in reversed(lines):
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit():
            return int(parts[0])
    return 0


@dataclass(frozen=True)
class Timeline:
    """Maps a byte offset of a log to the time it was first seen."""

    ends: list[int]
    times_us: list[int]
    fallback_us: int

    def time_of(self, offset: int) -> int:
        i = bisect.bisect_right(self.ends, offset)
        return self.times_us[i] if i < len(self.times_us) else self.fallback_us


def timeline(log_path: Path, fallback_us: int) -> Timeline:
    """The index of a log; offsets past it (not yet indexed) get `fallback_us`."""
    ends: list[int] = []
    times: list[int] = []
    try:
        text = index_path(log_path).read_text()
    except FileNotFoundError:
        text = ""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
            ends.append(int(parts[0]))
            times.append(max(int(parts[1]), times[-1] if times else 0))
    return Timeline(ends, times, max(fallback_us, times[-1] if times else 0))
