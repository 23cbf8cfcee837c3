"""B4: list one page of 100 with a filter on state and a label, over 1,000 and 100,000 jobs.

Both stores are seeded straight into SQLite (bench/seed.py) and then served; every list
goes through REST. Baseline: the same list over 1,000 jobs.
Target: the 100,000-job median <= 2 x the 1,000-job median, and <= 20 ms.
"""

from __future__ import annotations

import time

from bench import seed
from bench.model import BenchResult, Context, Row, Series, verdict
from bench.rest import JobsClient
from bench.server import customjobs_server
from bench.stats import Figure

ID = "B4"
TITLE = "list a filtered page over many jobs"
PAGE_SIZE = 100
FILTER = 'state="JOB_STATE_SUCCEEDED" AND labels.team="a"'
TARGET_RATIO = 2.0
TARGET_MS = 20.0
WARMUP_REQUESTS = 3


def _list_ms(ctx: Context, stored: int, runs: int) -> list[float]:
    data_dir = ctx.workdir / f"b4-{stored}"
    seed.seed(data_dir, stored)
    expected = min(PAGE_SIZE, seed.matching(stored, "JOB_STATE_SUCCEEDED", "a"))
    if seed.first_page(data_dir, FILTER, PAGE_SIZE) != expected:
        raise RuntimeError(f"the seeded store does not list {expected} jobs for {FILTER!r}")
    profile = ctx.profile_dir / f"B4-{stored}-server.txt" if ctx.profile_dir else None
    with customjobs_server(data_dir, profile) as server:
        server.start()
        client = JobsClient(server.url)
        try:
            samples = []
            for i in range(WARMUP_REQUESTS + runs):
                if i == WARMUP_REQUESTS:
                    server.profile()
                start = time.perf_counter()
                page = client.list(FILTER, PAGE_SIZE)
                elapsed_ms = (time.perf_counter() - start) * 1000
                got = len(page.get("customJobs", []))
                if got != expected:
                    raise RuntimeError(f"list over {stored:,} jobs gave {got} jobs, expected {expected}")
                if i >= WARMUP_REQUESTS:
                    samples.append(elapsed_ms)
            return samples
        finally:
            client.close()


def run(ctx: Context) -> BenchResult:
    small, large = ctx.size(full=1_000, quick=1_000), ctx.size(full=100_000, quick=2_000)
    runs = ctx.size(full=50, quick=5)
    base_ms, big_ms = _list_ms(ctx, small, runs), _list_ms(ctx, large, runs)
    base, big = Figure.of(base_ms, "ms"), Figure.of(big_ms, "ms")
    ratio = big.median / base.median
    met = ratio <= TARGET_RATIO and big.median <= TARGET_MS
    result = BenchResult()
    result.rows.append(Row(ID, f"list page of {PAGE_SIZE}, state+label filter, {small:,} jobs", base.text()))
    result.rows.append(
        Row(
            ID,
            f"list page of {PAGE_SIZE}, state+label filter, {large:,} jobs",
            big.text(),
            base.text(),
            f"{ratio:.2f}×",
            f"≤ {TARGET_RATIO:.0f}× baseline and ≤ {TARGET_MS:.0f} ms",
            verdict(ctx, met),
        )
    )
    result.series.append(
        Series("B4 list latency", "ms", {f"{small:,} jobs": base_ms, f"{large:,} jobs": big_ms})
    )
    result.notes.append(f"{ID}: filter `{FILTER}` selects 1/8 of the stored jobs; pages are full")
    return result
