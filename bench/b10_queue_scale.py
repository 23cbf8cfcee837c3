"""B10: a scheduler pass with many jobs queued on a full machine, and the server's memory.

The machine (`--cpus 4 --memory-gb 16`) is filled by one `sleep` job on n1-standard-4;
then N more n1-standard-4 jobs are written straight into the store as QUEUED, each with
the reason the scheduler gives them ("Waiting for free vCPUs and memory ..."), which is
where a queue that grew one job at a time stands. None of them can start, so every pass
finds the same queue.

The pass is timed in a worker process (`python -m bench.b10_queue_scale worker ...`) that
builds the server's own runtime over the data dir (`customjobs.runtime.build_runtime`: the
store, the scheduler with its tuning controller, the local backend, the capacity) and calls
`Scheduler.run_once` itself: 2 unmeasured passes, then the measured ones. Resident memory
is read from a real `customjobs serve` started afterwards over the same data dir (it
re-attaches the `sleep` job, so the machine stays full), sampled while it runs its passes
and answers a GET of a queued job and a list.

Baseline: the same pass with 1,000 queued. Target: the pass with 100,000 queued costs
<= 2 x the baseline, and the server stays <= 300 MB resident.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import procstat
from bench.model import BenchResult, Context, Row, Series, verdict
from bench.rest import LOCATION, PROJECT, JobsClient, job_body
from bench.server import REPO_ROOT, Subprocess, customjobs_argv, free_port
from bench.stats import Figure

ID = "B10"
TITLE = "a scheduler pass with many jobs queued on a full machine"
TARGET_RATIO = 2.0
TARGET_RSS_MB = 300.0
CPUS, MEMORY_GB = "4", "16"  # exactly one n1-standard-4 (4 vCPUs, 15 GB) fits
FILLER_COMMAND = ["sleep", "900"]
WARMUP_PASSES = 2
BATCH_ROWS = 20_000
RSS_WINDOW_S = 4.0  # the server's passes every active tick (0.25 s), sampled every 0.1 s
RSS_SAMPLE_S = 0.1
WORKER_TIMEOUT_S = 900.0


# the worker process ----------------------------------------------------------------------


def _new_job(command: list[str], name: str) -> Any:
    from customjobs.resources.custom_jobs import codec

    body = json.dumps(job_body(command, name=name)).encode()
    return codec.decode_new_job(codec.parse_custom_job(body, "v1"), PROJECT, LOCATION)


def _waiting_reason(runtime: Any, spec_json: str) -> str:
    """The reason the scheduler gives a queued n1-standard-4 job while the machine is full."""
    from customjobs.execution.capacity import job_shape
    from customjobs.execution.scheduler import admission
    from customjobs.wire.launch import launch_spec

    capacity = runtime.scheduler.queue.capacity
    spec = launch_spec(spec_json)
    shape = job_shape(spec, capacity)
    candidate = admission.Candidate(1, PROJECT, 0, 1, shape, spec.timeout_s)
    second = admission.Candidate(2, PROJECT, 0, 2, shape, spec.timeout_s)
    decisions = admission.plan(capacity, [], [candidate, second], 0.0)
    first = decisions[0]
    if not isinstance(first, admission.Admit):
        raise RuntimeError(f"an empty machine does not admit an n1-standard-4 job: {first}")
    waiting = decisions[1]
    if not isinstance(waiting, admission.Wait):
        raise RuntimeError(f"a full machine does not queue a second n1-standard-4 job: {waiting}")
    return waiting.reason


def _seed_queued(runtime: Any, count: int, after_us: int) -> None:
    """`count` QUEUED jobs, created after `after_us`, in a few large transactions."""
    from sqlalchemy import insert

    from customjobs.store.sql.tables import custom_jobs, job_events

    spec_json = _new_job(["true"], "queued").spec_json
    reason = _waiting_reason(runtime, spec_json)
    engine = runtime.store.engine
    for start in range(0, count, BATCH_ROWS):
        jobs, events = [], []
        for i in range(start, min(count, start + BATCH_ROWS)):
            created = after_us + 1_000 * (i + 1)
            job_id = (1 << 62) | ((created << 11) & ((1 << 62) - 1)) | (i & 0x7FF)
            jobs.append(
                {
                    "id": job_id,
                    "project": PROJECT,
                    "location": LOCATION,
                    "display_name": f"queued-{i}",
                    "state": "JOB_STATE_QUEUED",
                    "spec_json": spec_json,
                    "create_us": created,
                    "update_us": created,
                    "attempt": 0,
                    "priority": 0,
                    "queue_reason": reason,
                }
            )
            for state, message in (("JOB_STATE_PENDING", None), ("JOB_STATE_QUEUED", reason)):
                events.append({"job_id": job_id, "state": state, "time_us": created, "message": message})
        with engine.begin() as conn:
            conn.execute(insert(custom_jobs), jobs)
            conn.execute(insert(job_events), events)


def _settings(data_dir: Path, database: str | None) -> Any:
    from customjobs.config import Settings

    return Settings(data_dir=data_dir, database_url=database, cpus=float(CPUS), memory_gb=float(MEMORY_GB))


def worker(data_dir: Path, queued: int, passes: int) -> dict[str, Any]:
    """Fill the machine, queue `queued` jobs, time `passes` passes; the figures as a dict."""
    from customjobs import names
    from customjobs.clock import now_us
    from customjobs.domain.states import JobState
    from customjobs.runtime import build_runtime

    runtime = build_runtime(_settings(data_dir, None))
    scheduler = runtime.scheduler
    scheduler.lease = None  # the only scheduler on this data dir: no lease to hold
    filler_job = _new_job(FILLER_COMMAND, "filler")
    filler = runtime.store.insert_job(names.new_id(), filler_job, JobState.PENDING, now_us())
    for _ in range(20):
        scheduler.run_once()
        job = runtime.store.get_job(filler.id)
        if job is not None and job.state is JobState.RUNNING:
            break
    else:
        raise RuntimeError("the filler job never reached RUNNING")
    seed_start = time.perf_counter()
    _seed_queued(runtime, queued, filler.create_us)
    seed_s = time.perf_counter() - seed_start
    # Restarted over the seeded store, as a server would be: its scheduler knows nothing of
    # the queue yet, and its first pass reads the whole queue (reported apart).
    runtime.store.engine.dispose()
    runtime = build_runtime(_settings(data_dir, None))
    scheduler = runtime.scheduler
    scheduler.lease = None
    warm_s = []
    for _ in range(WARMUP_PASSES):
        start = time.perf_counter()
        result = scheduler.run_once()
        warm_s.append(time.perf_counter() - start)
        if result.admitted:
            raise RuntimeError(f"a pass admitted {result.admitted} job(s) on a full machine")
    samples_ms = []
    for _ in range(passes):
        start = time.perf_counter()
        result = scheduler.run_once()
        samples_ms.append((time.perf_counter() - start) * 1000)
        if result.admitted:
            raise RuntimeError(f"a pass admitted {result.admitted} job(s) on a full machine")
    counts = runtime.store.count_by_state()
    if counts.get(JobState.QUEUED, 0) != queued:
        raise RuntimeError(f"expected {queued} queued jobs, the store has {counts}")
    rss = procstat.rss_bytes(os.getpid())
    runtime.store.engine.dispose()
    return {
        "pass_ms": samples_ms,
        "warmup_s": warm_s,
        "seed_s": seed_s,
        "worker_rss_mb": rss / 1e6,
        "filler": names.job_name(PROJECT, LOCATION, filler.id),
    }


def stop_filler(data_dir: Path, job_name: str) -> None:
    """Kill the filler's replicas (the data dir is thrown away after; no pass runs again)."""
    from customjobs.store.sql.engine import make_engine
    from customjobs.store.sql.store import SqlStore

    settings = _settings(data_dir, None)
    store = SqlStore(make_engine(settings.db_url))
    try:
        job = store.get_job(names_id(job_name))
        if job is None or job.handle is None:
            return
        from customjobs.execution.backends.registry import make_backend

        backend = make_backend(settings, notify=lambda: None)
        try:
            backend.stop(job.handle, force=True)
        finally:
            backend.close()
    finally:
        store.engine.dispose()


def names_id(job_name: str) -> int:
    return int(job_name.rsplit("/", 1)[1])


# the bench side ---------------------------------------------------------------------------


def _run_worker(ctx: Context, data_dir: Path, queued: int, passes: int) -> dict[str, Any]:
    argv = [sys.executable, "-m", "bench.b10_queue_scale", "worker", str(data_dir), str(queued), str(passes)]
    log = data_dir.parent / f"{data_dir.name}.worker.log"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as err:
        out = subprocess.run(
            argv, stdout=subprocess.PIPE, stderr=err, cwd=REPO_ROOT, timeout=WORKER_TIMEOUT_S, check=False
        )
    if out.returncode != 0:
        tail = log.read_text()[-3000:]
        raise RuntimeError(f"B10 worker ({queued:,} queued) exited {out.returncode}:\n{tail}")
    figures: dict[str, Any] = json.loads(out.stdout.decode().strip().splitlines()[-1])
    return figures


def _server_rss_mb(ctx: Context, data_dir: Path, queued: int, first_pass_s: float) -> list[float]:
    """RSS samples of `customjobs serve` over the data dir while it runs passes and answers:
    through its first pass (a full read of the queue, as long as the worker's first) and a
    window of passes after it."""
    port = free_port()
    argv = [*customjobs_argv(), "serve", "--port", str(port), "--data-dir", str(data_dir)]
    argv += ["--cpus", CPUS, "--memory-gb", MEMORY_GB]
    profile = ctx.profile_dir / f"B10-{queued}-server.txt" if ctx.profile_dir else None
    server = Subprocess(argv, data_dir.parent / f"{data_dir.name}.server.log", port, profile)
    with server:
        server.start()
        client = JobsClient(server.url)
        try:
            page = client.list('state="JOB_STATE_QUEUED"', 10)
            queued_jobs = page.get("customJobs", [])
            if len(queued_jobs) != min(10, queued):
                raise RuntimeError(f"the server lists {len(queued_jobs)} queued jobs, expected 10")
            client.get(queued_jobs[-1]["name"])
            server.profile()
            samples = []
            end = time.monotonic() + 1.5 * first_pass_s + ctx.seconds(RSS_WINDOW_S, 1.0)
            while time.monotonic() < end:
                samples.append(procstat.rss_bytes(server.pid) / 1e6)
                time.sleep(RSS_SAMPLE_S)
            running = client.list('state="JOB_STATE_RUNNING"', 10).get("customJobs", [])
            if len(running) != 1:
                raise RuntimeError(f"{len(running)} jobs run on the full machine, expected the filler alone")
        finally:
            client.close()
    return samples


def _measure(ctx: Context, queued: int, passes: int) -> tuple[dict[str, Any], list[float]]:
    data_dir = ctx.workdir / f"b10-{queued}"
    figures = _run_worker(ctx, data_dir, queued, passes)
    try:
        rss = _server_rss_mb(ctx, data_dir, queued, figures["warmup_s"][0])
    finally:
        stop_filler(data_dir, figures["filler"])
    return figures, rss


def run(ctx: Context) -> BenchResult:
    small, large = ctx.size(full=1_000, quick=200), ctx.size(full=100_000, quick=5_000)
    passes = ctx.size(full=40, quick=5)
    base_fig, base_rss = _measure(ctx, small, passes)
    big_fig, big_rss = _measure(ctx, large, passes)
    base, big = Figure.of(base_fig["pass_ms"], "ms"), Figure.of(big_fig["pass_ms"], "ms")
    ratio = big.median / base.median
    peak_rss = max(big_rss)
    result = BenchResult()
    result.rows.append(Row(ID, f"one pass, {small:,} queued, machine full", base.text()))
    result.rows.append(
        Row(
            ID,
            f"one pass, {large:,} queued, machine full",
            big.text(),
            base.text(),
            f"{ratio:.2f}×",
            f"≤ {TARGET_RATIO:.0f}× baseline",
            verdict(ctx, ratio <= TARGET_RATIO),
        )
    )
    result.rows.append(
        Row(
            ID,
            f"  server RSS, {large:,} queued (peak of {len(big_rss)} samples)",
            f"{peak_rss:.0f} MB",
            f"{max(base_rss):.0f} MB at {small:,}",
            "—",
            f"≤ {TARGET_RSS_MB:.0f} MB",
            verdict(ctx, peak_rss <= TARGET_RSS_MB),
        )
    )
    first_pass = big_fig["warmup_s"][0]
    result.notes.append(
        f"{ID}: first pass after seeding {large:,} queued jobs took {first_pass:.2f} s "
        f"({small:,}: {base_fig['warmup_s'][0]:.2f} s); the worker that timed the passes held "
        f"{big_fig['worker_rss_mb']:.0f} MB ({base_fig['worker_rss_mb']:.0f} MB at {small:,}); "
        f"seeding took {big_fig['seed_s']:.1f} s"
    )
    result.series.append(
        Series(
            "B10 scheduler pass",
            "ms",
            {f"{small:,} queued": base_fig["pass_ms"], f"{large:,} queued": big_fig["pass_ms"]},
        )
    )
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] != "worker":
        print("usage: python -m bench.b10_queue_scale worker DATA_DIR QUEUED PASSES", file=sys.stderr)
        return 2
    figures = worker(Path(argv[1]), int(argv[2]), int(argv[3]))
    print(json.dumps(figures))
    print(f"median pass {statistics.median(figures['pass_ms']):.2f} ms", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
