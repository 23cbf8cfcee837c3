"""The machine and code a run measured: cores, memory, Python, commit (read from .git's
files, so the bench runs no git command)."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Machine:
    cpus: int
    memory_gib: float
    cpu_model: str
    python: str
    system: str
    commit: str
    load_at_start: tuple[float, float, float]

    def lines(self, load_at_end: tuple[float, float, float]) -> list[str]:
        """The machine, for the report; load averages show other work sharing the cores."""
        start, end = (" / ".join(f"{v:.2f}" for v in load) for load in (self.load_at_start, load_at_end))
        return [
            f"- machine: {self.cpus} CPUs (nproc), {self.memory_gib:.1f} GiB memory, {self.cpu_model}",
            f"- system: {self.system}; Python {self.python}",
            f"- commit: {self.commit} (plus any uncommitted changes in the working tree)",
            f"- load average (1 / 5 / 15 min): {start} at start, {end} at end",
        ]


def _meminfo_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024**2
    return 0.0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _git_dir(repo: Path) -> Path | None:
    dot_git = repo / ".git"
    if dot_git.is_file():  # a worktree or submodule: "gitdir: <path>"
        target = dot_git.read_text().strip().removeprefix("gitdir:").strip()
        return (repo / target).resolve()
    return dot_git if dot_git.is_dir() else None


def commit(repo: Path = REPO_ROOT) -> str:
    """The checked-out commit's hash, or 'unknown' outside a git checkout."""
    git_dir = _git_dir(repo)
    if git_dir is None:
        return "unknown"
    head = (git_dir / "HEAD").read_text().strip()
    if not head.startswith("ref:"):
        return head
    ref = head.removeprefix("ref:").strip()
    common = git_dir
    if (git_dir / "commondir").exists():
        common = (git_dir / (git_dir / "commondir").read_text().strip()).resolve()
    for base in (git_dir, common):
        if (base / ref).exists():
            return f"{(base / ref).read_text().strip()} ({ref.removeprefix('refs/heads/')})"
    packed = common / "packed-refs"
    if packed.exists():
        for line in packed.read_text().splitlines():
            if line.endswith(" " + ref):
                return f"{line.split()[0]} ({ref.removeprefix('refs/heads/')})"
    return f"unknown ({ref})"


def describe() -> Machine:
    return Machine(
        cpus=len(os.sched_getaffinity(0)),
        memory_gib=_meminfo_gib(),
        cpu_model=_cpu_model(),
        python=platform.python_version(),
        system=f"{platform.system()} {platform.release()}",
        commit=commit(),
        load_at_start=os.getloadavg(),
    )
