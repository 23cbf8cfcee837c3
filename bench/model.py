"""What a benchmark hands back: table rows with verdicts, plot series and notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class Verdict(StrEnum):
    PASS = "PASS"
    MISS = "MISS"
    INFO = "info"  # reported, no target
    QUICK = "unchecked"  # --quick and --profile check no target
    UNAVAILABLE = "n/a"  # the feature does not exist yet
    ERROR = "ERROR"  # the benchmark crashed


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    bench: str
    what: str
    figure: str
    baseline: str = "—"
    ratio: str = "—"
    target: str = "—"
    verdict: Verdict = Verdict.INFO


@dataclass(frozen=True)
class Series:
    """Samples to plot side by side: one box per label, all in one unit."""

    title: str
    unit: str
    samples: dict[str, list[float]]


@dataclass
class BenchResult:
    rows: list[Row] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """What every benchmark is given: the size it runs at and where it may write."""

    quick: bool
    workdir: Path
    profile_dir: Path | None = None
    # `--database URL`: a PostgreSQL server the benchmarks that support it also run on (B2).
    database: str | None = None

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def seconds(self, full: float, quick: float) -> float:
        return quick if self.quick else full

    @property
    def checks_targets(self) -> bool:
        """Only a full run unperturbed by a profiler says PASS or MISS."""
        return not self.quick and self.profile_dir is None


def verdict(ctx: Context, met: bool) -> Verdict:
    if not ctx.checks_targets:
        return Verdict.QUICK
    return Verdict.PASS if met else Verdict.MISS
