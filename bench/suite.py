"""The benchmarks in table order, and running one so that a crash becomes an ERROR row."""

from __future__ import annotations

import sys
import time
import traceback
from typing import Protocol

from bench import (
    b1_latency,
    b2_throughput,
    b3_get,
    b4_list,
    b5_idle,
    b6_cli,
    b7_package_cache,
    b8_ray_backend,
    b9_tuning,
    b10_queue_scale,
)
from bench.model import BenchResult, Context, Row, Verdict

MAX_CELL_CHARS = 90  # the whole traceback goes to stderr


class Benchmark(Protocol):
    ID: str
    TITLE: str

    def run(self, ctx: Context) -> BenchResult: ...


BENCHMARKS: list[Benchmark] = [
    b1_latency,
    b2_throughput,
    b3_get,
    b4_list,
    b5_idle,
    b6_cli,
    b7_package_cache,
    b8_ray_backend,
    b9_tuning,
    b10_queue_scale,
]


def select(only: str | None) -> list[Benchmark]:
    """The benchmarks named in `--only B1,B3` (all when None); unknown names are an error."""
    if not only:
        return list(BENCHMARKS)
    wanted = {name.strip().upper() for name in only.split(",") if name.strip()}
    known = {b.ID for b in BENCHMARKS}
    unknown = wanted - known
    if unknown:
        raise SystemExit(
            f"unknown benchmark(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}"
        )
    return [b for b in BENCHMARKS if b.ID in wanted]


def run_one(benchmark: Benchmark, ctx: Context) -> tuple[BenchResult, bool]:
    """The benchmark's result and whether it crashed (then the result holds an ERROR row)."""
    print(f"[bench] {benchmark.ID} {benchmark.TITLE} ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    try:
        result = benchmark.run(ctx)
        crashed = False
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        message = f"crashed: {type(exc).__name__}: {first_line}"[:MAX_CELL_CHARS]
        result = BenchResult(rows=[Row(benchmark.ID, benchmark.TITLE, message, verdict=Verdict.ERROR)])
        crashed = True
    print(f"[bench] {benchmark.ID} done in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    return result, crashed
