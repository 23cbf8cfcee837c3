"""Every image a committed benchmark report embeds is committed beside it.

The reports in bench/results/ are read on GitHub and in a clone: a plot that git ignores
shows there as a broken image (issue 18, item 6).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "results"
IMAGE_LINK = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")


def _tracked() -> set[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "bench/results"], cwd=REPO, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: which files are committed cannot be known")
    return {REPO / name for name in out.decode().split("\0") if name}


def test_embedded_plots_are_committed() -> None:
    tracked = _tracked()
    reports = sorted(p for p in tracked if p.suffix == ".md")
    assert reports, "bench/results holds no committed report"
    missing = [
        f"{report.name}: {link}"
        for report in reports
        for link in IMAGE_LINK.findall(report.read_text())
        if (report.parent / link).resolve() not in tracked
    ]
    assert not missing, f"reports embed images that are not committed: {missing}"


def test_gitignore_keeps_bench_plots() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "bench/results/2099-01-01-B1-1.png"], cwd=REPO
    ).returncode
    assert ignored == 1, "bench/results/*.png is ignored by git: committed reports would lose their plots"
