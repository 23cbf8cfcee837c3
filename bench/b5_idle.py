"""B5: the idle server: resident memory, CPU over an idle window, cold start to first answer.

No baseline: these are absolute limits for a process that sits on a laptop all day.
Targets: RSS <= 150 MB, CPU <= 1 % of one core, cold start <= 2 s.
"""

from __future__ import annotations

import functools
import time

from bench import procstat
from bench.model import BenchResult, Context, Row, Series, verdict
from bench.rest import JobsClient, job_body, succeeded
from bench.server import customjobs_server
from bench.stats import Figure, timed

ID = "B5"
TITLE = "idle server"
RSS_TARGET_MB = 150.0
CPU_TARGET_PERCENT = 1.0
START_TARGET_S = 2.0
SETTLE_S = 2.0  # let the job's last scheduler passes finish before the idle window opens


def _starts(ctx: Context, runs: int) -> tuple[list[float], list[float], list[float]]:
    """Seconds from spawn to the first answered request (GET /healthz) on a new data dir
    (migrations run) and again on the same dir; and to the first answered API call (a
    list, which loads the Vertex message types) on the new dir."""
    fresh: list[float] = []
    again: list[float] = []
    first_api: list[float] = []
    for r in range(runs):
        data_dir = ctx.workdir / f"b5-start-{r}"
        with customjobs_server(data_dir) as server:
            client = JobsClient(server.url)
            try:
                fresh.append(server.start())
                first_api.append(fresh[-1] + timed(functools.partial(client.list, "", 10)))
            finally:
                client.close()
        with customjobs_server(data_dir) as server:
            again.append(server.start())
    return fresh, again, first_api


def _idle(ctx: Context, windows: int, window_s: float) -> tuple[list[float], list[float]]:
    """RSS in MB and CPU in % of one core, per idle window, after one job has run."""
    profile = ctx.profile_dir / "B5-server.txt" if ctx.profile_dir else None
    rss_mb, cpu_percent = [], []
    with customjobs_server(ctx.workdir / "b5-idle", profile) as server:
        server.start()
        client = JobsClient(server.url)
        try:
            succeeded(client.run_to_end(job_body(["true"]))[1])
            client.list("", 10)
        finally:
            client.close()
        time.sleep(ctx.seconds(SETTLE_S, 0.2))
        server.profile()
        for _ in range(windows):
            cpu0, t0 = procstat.cpu_seconds(server.pid), time.perf_counter()
            time.sleep(window_s)
            cpu1, t1 = procstat.cpu_seconds(server.pid), time.perf_counter()
            cpu_percent.append((cpu1 - cpu0) / (t1 - t0) * 100)
            rss_mb.append(procstat.rss_bytes(server.pid) / 1e6)
    return rss_mb, cpu_percent


def run(ctx: Context) -> BenchResult:
    fresh, again, first_api = _starts(ctx, ctx.size(full=5, quick=1))
    rss_mb, cpu = _idle(ctx, ctx.size(full=3, quick=1), ctx.seconds(full=10.0, quick=1.0))
    rss, cpu_fig = Figure.of(rss_mb, "MB"), Figure.of(cpu, "%")
    start, restart, api = Figure.of(fresh, "s"), Figure.of(again, "s"), Figure.of(first_api, "s")
    result = BenchResult()
    result.rows += [
        Row(
            ID,
            "idle resident memory (RSS)",
            rss.text(),
            target=f"≤ {RSS_TARGET_MB:.0f} MB",
            verdict=verdict(ctx, rss.median <= RSS_TARGET_MB),
        ),
        Row(
            ID,
            f"idle CPU, {ctx.seconds(10, 1):.0f} s windows",
            cpu_fig.text(2),
            target=f"≤ {CPU_TARGET_PERCENT:.0f} %",
            verdict=verdict(ctx, cpu_fig.median <= CPU_TARGET_PERCENT),
        ),
        Row(
            ID,
            "cold start to first answer (/healthz), new data dir",
            start.text(2),
            target=f"≤ {START_TARGET_S:.0f} s",
            verdict=verdict(ctx, start.median <= START_TARGET_S),
        ),
        Row(
            ID,
            "  same, to first answered API call (list)",
            api.text(2),
            target=f"≤ {START_TARGET_S:.0f} s",
            verdict=verdict(ctx, api.median <= START_TARGET_S),
        ),
        Row(
            ID,
            "  same, existing data dir (restart)",
            restart.text(2),
            target=f"≤ {START_TARGET_S:.0f} s",
            verdict=verdict(ctx, restart.median <= START_TARGET_S),
        ),
    ]
    result.series.append(
        Series(
            "B5 cold start to first answer",
            "s",
            {"new data dir": fresh, "restart": again, "first list": first_api},
        )
    )
    return result
