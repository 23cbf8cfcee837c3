"""B8: trivial-job latency on the Ray execution backend, as a ratio to the local backend.

Both servers run the same `true` jobs one after another, in the same run: one on the local
backend, one with `serve --backend ray` against a real two-node Ray cluster that this
benchmark starts (`ray start` head + worker, tests/support/ray_cluster.py) and stops, or
against RAY_ADDRESS when that is set. Without Ray installed it prints "not available"
with the missing piece. Reported, no target.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from bench.model import BenchResult, Context, Row, Series, Verdict
from bench.rest import JobsClient, job_body, succeeded
from bench.server import customjobs_argv, customjobs_server
from bench.stats import Figure, ms

ID = "B8"
TITLE = "Ray backend trivial-job latency"
WARMUP_JOBS = 2


def _missing() -> str | None:
    """What stands between this machine and a Ray-backend run, or None."""
    help_text = subprocess.run([*customjobs_argv(), "serve", "--help"], capture_output=True, text=True).stdout
    if "--ray-address" not in help_text:
        return "`customjobs serve` has no --ray-address option"
    if importlib.util.find_spec("ray") is None:
        return "ray is not installed (pip install 'customjobs[ray]')"
    return None


@contextlib.contextmanager
def _ray_address() -> Iterator[str]:
    """RAY_ADDRESS, or a two-node cluster of this benchmark's own for as long as it runs."""
    if os.environ.get("RAY_ADDRESS"):
        yield os.environ["RAY_ADDRESS"]
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from support.ray_cluster import RayCluster

    cluster = RayCluster()
    try:
        cluster.start()
        yield cluster.address
    finally:
        cluster.stop()


def _latencies(ctx: Context, name: str, runs: int, *extra: str) -> list[float]:
    with customjobs_server(ctx.workdir / f"b8-{name}", None, *extra) as server:
        server.start()
        client = JobsClient(server.url)
        try:
            samples = []
            for i in range(WARMUP_JOBS + runs):
                seconds, job = client.run_to_end(job_body(["true"]))
                succeeded(job)
                if i >= WARMUP_JOBS:
                    samples.append(seconds)
            return ms(samples)
        finally:
            client.close()


def run(ctx: Context) -> BenchResult:
    result = BenchResult()
    missing = _missing()
    if missing is not None:
        result.rows.append(
            Row(ID, "Ray backend, create→SUCCEEDED", "not available", verdict=Verdict.UNAVAILABLE)
        )
        result.notes.append(f"{ID}: not available: {missing}")
        return result
    runs = ctx.size(full=20, quick=2)
    local = _latencies(ctx, "local", runs)
    with _ray_address() as address:
        ray = _latencies(ctx, "ray", runs, "--backend", "ray", "--ray-address", address)
    base, ours = Figure.of(local, "ms"), Figure.of(ray, "ms")
    ratio = f"{ours.median / base.median:.1f}× (+{ours.median - base.median:.0f} ms)"
    result.rows.append(Row(ID, "Ray backend, create→SUCCEEDED", ours.text(), base.text(), ratio, "reported"))
    result.series.append(Series("B8 Ray vs local backend latency", "ms", {"local": local, "ray": ray}))
    return result
