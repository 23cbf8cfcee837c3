"""Top frames of a py-spy profile (`--format raw --threads`: collapsed stacks with counts).

`python -m bench --profile` attaches py-spy to each customjobs server it starts; this
turns the collapsed stacks into where the server spent its samples: by thread, by leaf
frame (self time), and by customjobs function (inclusive time, the project's hot path).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

_LINE_NO = re.compile(r":\d+\)$")
_THREAD_ID = re.compile(r"^thread \(\d+\): |-\d+$")
PROJECT_MARKER = "customjobs/"
# Leaves where a thread blocks without the GIL: idle pool workers and loops waiting for work.
# py-spy does not always see these as idle, so they are counted apart from the busy samples.
WAITING_LEAVES = frozenset(
    {
        "Condition.wait (threading.py)",
        "EpollSelector.select (selectors.py)",
        "Thread._wait_for_tstate_lock (threading.py)",
        "Popen._try_wait (subprocess.py)",
    }
)


def _frame(text: str) -> str:
    """`fn (path/to/module.py:123)` without the line, so one function is one frame."""
    return _LINE_NO.sub(")", text.strip())


def _thread(text: str) -> str:
    """`thread (123): reaper-456` as `reaper`: one line per kind of thread."""
    return _THREAD_ID.sub("", text.strip()) or "?"


def _percent_lines(counter: Counter[str], total: int, limit: int) -> list[str]:
    return [f"  {100 * n / total:5.1f}%  {name}" for name, n in counter.most_common(limit)]


def top_frames(path: Path, limit: int = 15) -> str:
    """Sample shares by thread, self frame and customjobs function, as text."""
    threads: Counter[str] = Counter()
    own: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = waiting = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        thread, *rest = stack.split(";")
        frames = [_frame(f) for f in rest]
        if not frames:
            continue
        if frames[-1] in WAITING_LEAVES:
            waiting += count
            continue
        total += count
        threads[_thread(thread)] += count
        own[frames[-1]] += count
        for frame in {f for f in frames if PROJECT_MARKER in f and "cli/main.py" not in f}:
            ours[frame] += count
    if not total:
        return f"{path.name}: no samples"
    head = f"{path.name}: {total} busy samples (and {waiting} in waits: pool workers, selectors, wait())"
    lines = [head, "", "busy samples by thread:"]
    lines += _percent_lines(threads, total, limit)
    lines += ["", "self time (leaf frames):", *_percent_lines(own, total, limit)]
    lines += ["", "inclusive time, customjobs functions:", *_percent_lines(ours, total, limit)]
    return "\n".join(lines)
