"""PNG box plots of each benchmark's samples, beside the markdown report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench.model import Series


def available() -> str | None:
    """None when plots can be drawn, else why not."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return "matplotlib is not installed (pip install -e '.[bench]'); no plots"
    return None


def draw(series: Sequence[Series], out_dir: Path, stem: str) -> list[Path]:
    """One PNG per series: a box per label (median line, quartiles, whiskers to min/max)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths: list[Path] = []
    per_bench: dict[str, int] = {}
    for s in series:
        fig, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
        labels = list(s.samples)
        ax.boxplot([s.samples[k] for k in labels], whis=(0, 100), showfliers=False)
        ax.set_xticks(range(1, len(labels) + 1), labels)
        ax.set_title(s.title)
        ax.set_ylabel(s.unit)
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
        bench = s.title.split()[0]
        per_bench[bench] = per_bench.get(bench, 0) + 1
        path = out_dir / f"{stem}-{bench}-{per_bench[bench]}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths
