"""Vertex's median automated stopping rule, on the measurements the trials reported.

A running trial is stopped when its best objective value so far is strictly worse than the
median, over the completed trials, of each one's "performance": the running average of the
objective values it had reported up to the running trial's last measurement (by step, or by
elapsed time with `use_elapsed_duration`). Nothing is stopped before a few trials have
completed, so the median means something.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# Completed trials the rule needs before it stops anything (Vertex does not publish its own).
MIN_COMPLETED = 3


@dataclass(frozen=True)
class Point:
    """One measurement of the objective: where it was taken (step or seconds) and its value."""

    at: float
    value: float


def performance(curve: Sequence[Point], up_to: float) -> float | None:
    """The running average of the values reported at or before `up_to`; None if there are none."""
    seen = [p.value for p in curve if p.at <= up_to]
    return sum(seen) / len(seen) if seen else None


def should_stop(running: Sequence[Point], completed: Sequence[Sequence[Point]], maximize: bool) -> bool:
    if not running or len(completed) < MIN_COMPLETED:
        return False
    up_to = running[-1].at
    others = [p for c in completed if (p := performance(c, up_to)) is not None]
    if len(others) < MIN_COMPLETED:
        return False
    median = statistics.median(others)
    best = max(p.value for p in running) if maximize else min(p.value for p in running)
    return best < median if maximize else best > median
