"""Automated stopping of losing trials, on the measurements the trials reported.

The median rule is Vertex's, as documented.
A running trial is stopped when its best objective value so far is strictly worse than the
median, over the completed trials, of each one's "performance": the running average of the
objective values it had reported up to the running trial's last measurement (by step, or by
elapsed time with `use_elapsed_duration`). Nothing is stopped before a few trials have
completed, so the median means something.

The decay-curve rule is ours in its model: Vertex fits a Gaussian process to the curves; here
the running trial's own measurements are fitted with y = a + b / t (least squares: a curve
that flattens as learning curves do) and extrapolated to the furthest point any completed
trial reached. The trial is stopped when that prediction is worse than the best final value
of the completed trials, after at least MIN_POINTS measurements.
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


MIN_POINTS = 3


def predicted_final(curve: Sequence[Point], horizon: float) -> float:
    """y = a + b / t fitted to `curve` by least squares, evaluated at `horizon`."""
    xs = [1.0 / max(p.at, 1e-9) for p in curve]
    ys = [p.value for p in curve]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    b = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread if spread else 0.0
    a = mean_y - b * mean_x
    return a + b / max(horizon, 1e-9)


def decay_should_stop(running: Sequence[Point], completed: Sequence[Sequence[Point]], maximize: bool) -> bool:
    finished = [c for c in completed if c]
    if len(running) < MIN_POINTS or len(finished) < MIN_COMPLETED:
        return False
    horizon = max(max(p.at for p in c) for c in finished)
    finals = [c[-1].value for c in finished]
    best = max(finals) if maximize else min(finals)
    guess = predicted_final(running, max(horizon, running[-1].at))
    return guess < best if maximize else guess > best
