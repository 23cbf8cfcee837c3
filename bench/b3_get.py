"""B3: GET of one job at 32 concurrent connections: requests/s, p50 and p99 latency.

Baseline: a bare Starlette endpoint on uvicorn answering constant JSON (bench/bare_app.py),
loaded by the same generator in the same run, the two interleaved run by run.
Target: >= 0.5 x baseline requests/s.
"""

from __future__ import annotations

from bench.loadgen import LoadResult, run_load
from bench.model import BenchResult, Context, Row, Series, verdict
from bench.rest import JobsClient, job_body, succeeded
from bench.server import bare_server, customjobs_server
from bench.stats import Figure

ID = "B3"
TITLE = "get at 32 connections"
CONNECTIONS = 32
TARGET_RATIO = 0.5


def _figures(results: list[LoadResult]) -> tuple[Figure, Figure, Figure]:
    return (
        Figure.of([r.rps for r in results], "req/s"),
        Figure.of([r.p50_ms for r in results], "ms"),
        Figure.of([r.p99_ms for r in results], "ms"),
    )


def _check(results: list[LoadResult], who: str) -> None:
    errors = sum(r.errors for r in results)
    if errors:
        raise RuntimeError(f"{who}: {errors} requests were not answered 200")


def run(ctx: Context) -> BenchResult:
    runs = ctx.size(full=5, quick=1)
    duration_s, warmup_s = ctx.seconds(full=5.0, quick=0.5), ctx.seconds(full=1.0, quick=0.2)
    profile = ctx.profile_dir / "B3-server.txt" if ctx.profile_dir else None
    ours: list[LoadResult] = []
    bare: list[LoadResult] = []
    with customjobs_server(ctx.workdir / "b3", profile) as server, bare_server(ctx.workdir) as baseline:
        server.start()
        baseline.start()
        client = JobsClient(server.url)
        try:
            _, job = client.run_to_end(job_body(["true"]))
            succeeded(job)
            client.get(job["name"])
        finally:
            client.close()
        server.profile()
        for _ in range(runs):
            bare.append(run_load(baseline.url + "/constant", CONNECTIONS, duration_s, warmup_s))
            ours.append(run_load(f"{server.url}/v1/{job['name']}", CONNECTIONS, duration_s, warmup_s))
    _check(ours, "customjobs")
    _check(bare, "bare endpoint")
    (rps, p50, p99), (b_rps, b_p50, b_p99) = _figures(ours), _figures(bare)
    ratio = rps.median / b_rps.median
    result = BenchResult()
    result.rows.append(
        Row(
            ID,
            f"GET job, {CONNECTIONS} connections",
            rps.text(0),
            b_rps.text(0),
            f"{ratio:.2f}×",
            f"≥ {TARGET_RATIO}× baseline",
            verdict(ctx, ratio >= TARGET_RATIO),
        )
    )
    result.rows.append(
        Row(ID, "  p50 latency", p50.text(), b_p50.text(), f"{p50.median / b_p50.median:.1f}×")
    )
    result.rows.append(
        Row(ID, "  p99 latency", p99.text(), b_p99.text(), f"{p99.median / b_p99.median:.1f}×")
    )
    result.series.append(
        Series(
            "B3 requests/s at 32 connections",
            "req/s",
            {"bare Starlette": [r.rps for r in bare], "customjobs get": [r.rps for r in ours]},
        )
    )
    result.series.append(
        Series(
            "B3 request latency (all requests)",
            "ms",
            {
                "bare Starlette": [s * 1000 for r in bare for s in r.latencies_s],
                "customjobs get": [s * 1000 for r in ours for s in r.latencies_s],
            },
        )
    )
    return result
