"""B8: trivial-job latency on the Ray execution backend, as a ratio to the local backend.

Runs only when the server has a Ray backend (the Ray issue: `serve --backend ray
--ray-address ADDRESS`), Ray is installed and a Ray head answers at RAY_ADDRESS;
otherwise it prints "not available yet" with the missing piece. Reported, no target.
"""

from __future__ import annotations

import os
import subprocess

from bench.model import BenchResult, Context, Row, Series, Verdict
from bench.rest import JobsClient, job_body, succeeded
from bench.server import customjobs_argv, customjobs_server
from bench.stats import Figure, ms

ID = "B8"
TITLE = "Ray backend trivial-job latency"
WARMUP_JOBS = 2


def _missing() -> str | None:
    """What stands between this machine and a Ray-backend run, or None."""
    from customjobs.backends.registry import BACKENDS

    if "ray" not in BACKENDS:
        return f"customjobs has no 'ray' execution backend (registered: {', '.join(sorted(BACKENDS))})"
    help_text = subprocess.run([*customjobs_argv(), "serve", "--help"], capture_output=True, text=True).stdout
    if "--ray-address" not in help_text:
        return "`customjobs serve` has no --ray-address option"
    try:
        import ray  # noqa: F401
    except ImportError:
        return "ray is not installed (pip install 'customjobs[ray]')"
    if not os.environ.get("RAY_ADDRESS"):
        return "RAY_ADDRESS is not set (start a head with `ray start --head`)"
    return None


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
            Row(ID, "Ray backend, create→SUCCEEDED", "not available yet", verdict=Verdict.UNAVAILABLE)
        )
        result.notes.append(f"{ID}: not available yet: {missing}")
        return result
    runs = ctx.size(full=20, quick=2)
    local = _latencies(ctx, "local", runs)
    ray = _latencies(ctx, "ray", runs, "--backend", "ray", "--ray-address", os.environ["RAY_ADDRESS"])
    base, ours = Figure.of(local, "ms"), Figure.of(ray, "ms")
    ratio = f"{ours.median / base.median:.1f}× (+{ours.median - base.median:.0f} ms)"
    result.rows.append(Row(ID, "Ray backend, create→SUCCEEDED", ours.text(), base.text(), ratio, "reported"))
    result.series.append(Series("B8 Ray vs local backend latency", "ms", {"local": local, "ray": ray}))
    return result
