"""`python -m bench [--quick] [--only B1,B3] [--out DIR] [--profile] [--database URL]`: run, print, report.

Exit status: 0 when every benchmark ran (PASS/MISS are in the table, not the status);
1 when any benchmark crashed.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench import machine, plots, profiles, report, suite
from bench.model import BenchResult, Context
from bench.server import py_spy

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, no target checked (for CI)")
    parser.add_argument("--only", metavar="B1,B3", help="run only these benchmarks")
    parser.add_argument(
        "--out",
        type=Path,
        help="report folder [default: bench/results; a temp folder with --quick or --profile]",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy on each server after its warm-up; top frames in OUT/profiles (checks no target)",
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help="also run B2 on this PostgreSQL server (a fresh database bench_<pid> on it, dropped after)",
    )
    return parser.parse_args(argv)


def _summarize_profiles(profile_dir: Path) -> list[Path]:
    written = []
    for raw in sorted(profile_dir.glob("*.txt")):
        if raw.name.endswith(".top.txt"):
            continue
        top = raw.with_name(raw.stem + ".top.txt")
        top.write_text(profiles.top_frames(raw) + "\n")
        written.append(top)
    return written


def _keep_logs(workdir: Path, into: Path) -> list[str]:
    """A crashed benchmark's server logs, copied out before its temp folder goes."""
    logs = sorted(workdir.glob("*.log"))
    if not logs:
        return []
    into.mkdir(parents=True, exist_ok=True)
    for log in logs:
        shutil.copy(log, into / log.name)
    return [f"server logs of the crashed benchmark: {into}"]


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    benchmarks = suite.select(args.only)
    scratch = args.quick or args.profile  # figures that must not replace a full run's report
    out_dir: Path = args.out or (Path(tempfile.mkdtemp(prefix="bench-")) if scratch else RESULTS_DIR)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = date.today().isoformat() + ("-quick" if args.quick else "") + ("-profiled" if args.profile else "")
    profile_dir = out_dir / "profiles" / stem if args.profile else None
    if args.profile and py_spy() is None:
        print(
            "[bench] --profile: py-spy is not installed (pip install -e '.[bench]'); no profiles",
            file=sys.stderr,
        )
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    started, context = time.perf_counter(), machine.describe()
    total, crashed = BenchResult(), False
    with tempfile.TemporaryDirectory(prefix="customjobs-bench-") as tmp:
        for benchmark in benchmarks:
            ctx = Context(args.quick, Path(tmp) / benchmark.ID, profile_dir, args.database)
            ctx.workdir.mkdir(parents=True)
            result, failed = suite.run_one(benchmark, ctx)
            crashed |= failed
            if failed:
                result.notes += _keep_logs(ctx.workdir, out_dir / "logs" / stem / benchmark.ID)
            total.rows += result.rows
            total.series += result.series
            total.notes += result.notes
    took_s = time.perf_counter() - started
    why_no_plots = plots.available()
    drawn = plots.draw(total.series, out_dir, stem) if why_no_plots is None else []
    notes = total.notes + ([why_no_plots] if why_no_plots else [])
    title = f"customjobs benchmarks, {date.today().isoformat()}" + (
        " (--quick: no target checked)" if args.quick else ""
    )
    md = report.markdown(total.rows, notes, context, command, took_s, drawn, title)
    (out_dir / f"{stem}.md").write_text(md)
    print(report.text_table(total.rows))
    for note in notes:
        print(f"note: {note}")
    if profile_dir is not None and profile_dir.exists():
        for top in _summarize_profiles(profile_dir):
            print(f"profile: {top}")
    print(f"report: {out_dir / f'{stem}.md'} ({len(drawn)} plots); took {took_s:.1f} s")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
