"""The results table, on stdout and as bench/results/<date>.md with the run's context."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from bench.machine import Machine
from bench.model import Row

HEADER = ("#", "what", "measured: median (min–max, n)", "baseline (same run)", "ratio", "target", "result")


def _cells(row: Row) -> tuple[str, ...]:
    return (row.bench, row.what, row.figure, row.baseline, row.ratio, row.target, str(row.verdict))


def text_table(rows: Sequence[Row]) -> str:
    table = [HEADER, *(_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows: Sequence[Row]) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(HEADER), line(["---"] * len(HEADER)), *(line(_cells(r)) for r in rows)])


def markdown(
    rows: Sequence[Row],
    notes: Sequence[str],
    machine: Machine,
    command: str,
    took_s: float,
    plots: Sequence[Path],
    title: str,
) -> str:
    parts = [
        f"# {title}",
        "",
        f"Command: `{command}` (took {took_s:.0f} s)",
        "",
        *machine.lines(os.getloadavg()),
        "",
        "Each figure is the median of several runs, with min and max; each target is a ratio to a",
        "baseline measured in the same run. PASS/MISS is read only from a full (not --quick) run.",
        "",
        markdown_table(rows),
        "",
    ]
    if notes:
        parts += ["## Notes", "", *(f"- {n}" for n in notes), ""]
    if plots:
        parts += ["## Plots", "", *(f"![{p.stem}]({p.name})" for p in plots), ""]
    return "\n".join(parts)
