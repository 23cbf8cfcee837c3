"""B6: wall time of `customjobs jobs list` against a server with a few jobs.

Baseline: `python -c pass` with the same interpreter, the floor for any Python command.
Target: median <= baseline + 300 ms.
"""

from __future__ import annotations

import subprocess
import sys

from bench.model import BenchResult, Context, Row, Series, verdict
from bench.rest import LOCATION, PROJECT, JobsClient, job_body, succeeded
from bench.server import customjobs_argv, customjobs_server
from bench.stats import Figure, ms, timed

ID = "B6"
TITLE = "CLI list wall time"
OVERHEAD_TARGET_MS = 300.0
STORED_JOBS = 5  # 2 with --quick


def _run(argv: list[str]) -> float:
    def call() -> None:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    return timed(call)


def run(ctx: Context) -> BenchResult:
    runs, stored = ctx.size(full=15, quick=2), ctx.size(full=STORED_JOBS, quick=2)
    base_ms: list[float] = []
    cli_ms: list[float] = []
    with customjobs_server(ctx.workdir / "b6") as server:
        server.start()
        client = JobsClient(server.url)
        try:
            for _ in range(stored):
                succeeded(client.run_to_end(job_body(["true"]))[1])
        finally:
            client.close()
        cli = [*customjobs_argv(), "jobs", "--endpoint", server.url, "--project", PROJECT]
        cli += ["--region", LOCATION, "list"]
        _run(cli)  # unmeasured: fills the page cache and writes .pyc files
        for _ in range(runs):
            base_ms += ms([_run([sys.executable, "-c", "pass"])])
            cli_ms += ms([_run(cli)])
    base, ours = Figure.of(base_ms, "ms"), Figure.of(cli_ms, "ms")
    extra = ours.median - base.median
    result = BenchResult()
    result.rows.append(
        Row(
            ID,
            f"`customjobs jobs list` ({stored} jobs)",
            ours.text(0),
            base.text(0),
            f"{ours.median / base.median:.1f}× (+{extra:.0f} ms)",
            f"≤ baseline + {OVERHEAD_TARGET_MS:.0f} ms",
            verdict(ctx, extra <= OVERHEAD_TARGET_MS),
        )
    )
    result.series.append(
        Series("B6 CLI wall time", "ms", {"python -c pass": base_ms, "customjobs jobs list": cli_ms})
    )
    return result
