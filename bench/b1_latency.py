"""B1: create-to-SUCCEEDED latency of a one-replica `true` job on an idle server, via REST.

Baseline: `subprocess.run(["true"])` in the same run, the floor for starting a process.
Target: median <= baseline + 10 ms. Ray Jobs and Slurm run beside it when installed.
"""

from __future__ import annotations

import subprocess
from datetime import datetime

from bench import peers
from bench.model import BenchResult, Context, Row, Series, Verdict, verdict
from bench.rest import JobsClient, job_body, succeeded
from bench.server import customjobs_server
from bench.stats import Figure, ms, timed

ID = "B1"
TITLE = "create-to-SUCCEEDED latency"
OVERHEAD_TARGET_MS = 10.0
WARMUP_JOBS = 3  # the first job pays for lazy imports and cold caches (1 with --quick)


def _baseline(runs: int) -> list[float]:
    return ms([timed(lambda: subprocess.run(["true"], check=True)) for _ in range(runs)])


def _customjobs(ctx: Context, runs: int) -> tuple[list[float], list[float]]:
    """Client-seen latencies, and the server's own createTime-to-endTime, in ms."""
    profile = ctx.profile_dir / "B1-server.txt" if ctx.profile_dir else None
    client_ms, server_ms = [], []
    warmup = ctx.size(full=WARMUP_JOBS, quick=1)
    with customjobs_server(ctx.workdir / "b1", profile) as server:
        server.start()
        client = JobsClient(server.url)
        try:
            for i in range(warmup + runs):
                if i == warmup:
                    server.profile()
                seconds, job = client.run_to_end(job_body(["true"]))
                succeeded(job)
                if i >= warmup:
                    client_ms.append(seconds * 1000)
                    server_ms.append(_span_ms(job["createTime"], job["endTime"]))
        finally:
            client.close()
    return client_ms, server_ms


def _span_ms(start: str, end: str) -> float:
    """Milliseconds between two RFC 3339 timestamps of the server's."""
    return (_parse_time(end) - _parse_time(start)).total_seconds() * 1000


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def run(ctx: Context) -> BenchResult:
    runs = ctx.size(full=30, quick=3)
    base_ms = _baseline(runs)
    base = Figure.of(base_ms, "ms")
    client_ms, server_ms = _customjobs(ctx, runs)
    ours = Figure.of(client_ms, "ms")
    extra = ours.median - base.median
    result = BenchResult()
    result.rows.append(
        Row(
            ID,
            "create→SUCCEEDED, 1 replica `true`, REST",
            ours.text(),
            base.text(),
            f"{ours.median / base.median:.1f}× (+{extra:.1f} ms)",
            f"≤ baseline + {OVERHEAD_TARGET_MS:.0f} ms",
            verdict(ctx, extra <= OVERHEAD_TARGET_MS),
        )
    )
    server_fig = Figure.of(server_ms, "ms")
    result.rows.append(Row(ID, "  same, server's createTime→endTime", server_fig.text(), base.text()))
    samples = {"subprocess.run(true)": base_ms, "customjobs": client_ms}
    for peer in peers.all_peers():
        if peer.peer is None:
            result.notes.append(peer.skipped_line(ID))
            continue
        peer_ms = ms([peer.peer.run_one() for _ in range(runs)])
        fig = Figure.of(peer_ms, "ms")
        samples[peer.name] = peer_ms
        ratio = f"{fig.median / ours.median:.1f}× customjobs"
        result.rows.append(Row(ID, f"  peer: {peer.name}", fig.text(), base.text(), ratio, "—", Verdict.INFO))
    result.series.append(Series("B1 create→SUCCEEDED latency", "ms", samples))
    return result
