"""Figures as the suite reports them: median of several runs, with min and max."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """The median of some samples, with their range, in one unit."""

    median: float
    low: float
    high: float
    count: int
    unit: str

    @classmethod
    def of(cls, samples: Sequence[float], unit: str) -> Figure:
        if not samples:
            raise ValueError("a figure needs at least one sample")
        return cls(statistics.median(samples), min(samples), max(samples), len(samples), unit)

    def text(self, digits: int = 1) -> str:
        """`12.3 ms (10.1–15.0, n=30)`: the median first, the range after it."""
        m, lo, hi = (f"{v:,.{digits}f}" for v in (self.median, self.low, self.high))
        return f"{m} {self.unit} ({lo}–{hi}, n={self.count})"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank: a value that was really observed."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of `fn` takes, on the monotonic high-resolution clock."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def ms(seconds: Sequence[float]) -> list[float]:
    return [s * 1000 for s in seconds]
