"""B8: the Ray execution backend beside the local backend and Ray Jobs, on one real cluster.

Everything runs in the same run, against one two-node Ray cluster that this benchmark
starts (`ray start` head + worker, tests/support/ray_cluster.py, the head with its
dashboard and job server) and stops, or against RAY_ADDRESS when that is set:

- latency: `true` jobs one after another, create to the first GET that answers SUCCEEDED,
  on a local-backend server and on a `serve --backend ray` server (reported, no target);
- the peer: Ray Jobs, `JobSubmissionClient.submit_job(entrypoint="true")` to SUCCEEDED on
  the same cluster, interleaved job by job with customjobs on Ray.
  Target: customjobs on Ray <= 0.5 x Ray Jobs;
- throughput: B2's run (`true` jobs created by 32 clients until all have ended) on the
  Ray-backend server, beside the same run on a local-backend server (reported).

Without Ray installed it prints "not available" with the missing piece; without
`ray[default]` (the job server is a dashboard module) the peer row says so. With --quick the
peer is skipped (the dashboard alone adds seconds to the cluster's start) and the rest is tiny.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import statistics
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench import b2_throughput, peer_ray
from bench.model import BenchResult, Context, Row, Series, Verdict, verdict
from bench.rest import JobsClient, job_body, succeeded
from bench.server import BENCH_CAPACITY, customjobs_argv, customjobs_server
from bench.stats import Figure

ID = "B8"
TITLE = "Ray backend: latency beside local and Ray Jobs; throughput"
WARMUP_JOBS = 2
TARGET_RATIO = 0.5  # customjobs on Ray <= 0.5 x Ray Jobs, create -> SUCCEEDED
LATENCY_JOBS = 20  # --quick: 2
THROUGHPUT_JOBS = 100  # as B2's peers run: a Ray actor per replica starts in about a second
THROUGHPUT_JOBS_QUICK = 4
THROUGHPUT_RUNS = 3  # --quick: 1
RAY_DASHBOARD_PORT = 8265  # Ray's default, where a RAY_ADDRESS head's job server is looked for
# The cluster declares what the benchmark servers declare (bench/server.py, BENCH_CAPACITY),
# split over its two nodes, so that B2's n1-standard-4 jobs all fit at once on either backend
# (the tests' nodes hold two each). Logical figures: Ray checks them against nothing real.
_CAPACITY = dict(zip(BENCH_CAPACITY[::2], BENCH_CAPACITY[1::2], strict=True))
NODE_CPUS = int(float(_CAPACITY["--cpus"]) / 2)
NODE_MEMORY_BYTES = int(float(_CAPACITY["--memory-gb"]) / 2 * 1024**3)


def _missing() -> str | None:
    """What stands between this machine and a Ray-backend run, or None."""
    help_text = subprocess.run([*customjobs_argv(), "serve", "--help"], capture_output=True, text=True).stdout
    if "--ray-address" not in help_text:
        return "`customjobs serve` has no --ray-address option"
    if importlib.util.find_spec("ray") is None:
        return "ray is not installed (pip install 'customjobs[ray]')"
    return None


@dataclass(frozen=True)
class Cluster:
    address: str  # the GCS, for `serve --ray-address`
    server_args: tuple[str, ...]  # what `serve --backend ray` is given besides the backend
    jobs_url: str | None  # Ray's job server on the same cluster, when there is one
    jobs_missing: str  # why there is none


def _jobs_url_of(gcs_address: str) -> tuple[str | None, str]:
    """The job server of a RAY_ADDRESS head: Ray's default dashboard port on its host."""
    host = gcs_address.removeprefix("ray://").rsplit(":", 1)[0]
    url = f"http://{host}:{RAY_DASHBOARD_PORT}"
    why = peer_ray.not_answering(url)
    return (None, why) if why else (url, "")


@contextlib.contextmanager
def _cluster(ctx: Context) -> Iterator[Cluster]:
    """RAY_ADDRESS, or a two-node cluster of this benchmark's own for as long as it runs."""
    jobs_missing = "skipped in --quick" if ctx.quick else peer_ray.missing_ray_default()
    if os.environ.get("RAY_ADDRESS"):
        address = os.environ["RAY_ADDRESS"]
        url, why = (None, jobs_missing) if jobs_missing else _jobs_url_of(address)
        yield Cluster(address, ("--ray-address", address), url, why)
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from support.ray_cluster import RayCluster

    cluster = RayCluster(
        dashboard=jobs_missing is None, node_cpus=NODE_CPUS, node_memory_bytes=NODE_MEMORY_BYTES
    )
    try:
        cluster.start()
        node_dir = str(cluster.temp_dir / "nodes")
        args = ("--ray-address", cluster.address, "--ray-node-dir", node_dir)
        yield Cluster(cluster.address, args, cluster.dashboard_url, jobs_missing or "")
    finally:
        cluster.stop()


@dataclass
class Samples:
    """One server's figures: latency (ms), the peer's beside it (ms), throughput (jobs/s)."""

    latency: list[float] = field(default_factory=list)
    peer: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    failed: int = 0  # throughput jobs that did not end SUCCEEDED


def _on_server(ctx: Context, name: str, peer: peer_ray.RayPeer | None, *extra: str) -> Samples:
    """On one fresh server: `true` jobs one after another (with a peer, each followed by one
    Ray Jobs job, so that the machine's drift falls on both alike), then B2's runs."""
    out = Samples()
    runs = ctx.size(full=LATENCY_JOBS, quick=2)
    with customjobs_server(ctx.workdir / f"b8-{name}", None, *extra) as server:
        server.start()
        client = JobsClient(server.url)
        try:
            for i in range(WARMUP_JOBS + runs):
                seconds, job = client.run_to_end(job_body(["true"]))
                succeeded(job)
                peer_seconds = peer.run_one() if peer is not None else None
                if i >= WARMUP_JOBS:
                    out.latency.append(seconds * 1000)
                    if peer_seconds is not None:
                        out.peer.append(peer_seconds * 1000)
        finally:
            client.close()
        jobs = ctx.size(full=THROUGHPUT_JOBS, quick=THROUGHPUT_JOBS_QUICK)
        for r in range(ctx.size(full=THROUGHPUT_RUNS, quick=1)):
            # B2's own run, as B2 measures it (its warm-up is the latency jobs above).
            rate, _, failed = b2_throughput._one_run(server.url, jobs, f"b2-{r}")
            out.rates.append(rate)
            out.failed += failed
    return out


def run(ctx: Context) -> BenchResult:
    result = BenchResult()
    missing = _missing()
    if missing is not None:
        result.rows.append(
            Row(ID, "Ray backend, create→SUCCEEDED", "not available", verdict=Verdict.UNAVAILABLE)
        )
        result.notes.append(f"{ID}: not available: {missing}")
        return result
    local = _on_server(ctx, "local", None)
    with _cluster(ctx) as cluster:
        peer = peer_ray.RayPeer(cluster.jobs_url) if cluster.jobs_url else None
        ray = _on_server(ctx, "ray", peer, "--backend", "ray", *cluster.server_args)
    base, ours = Figure.of(local.latency, "ms"), Figure.of(ray.latency, "ms")
    ratio = f"{ours.median / base.median:.1f}× (+{ours.median - base.median:.0f} ms)"
    result.rows.append(Row(ID, "Ray backend, create→SUCCEEDED", ours.text(), base.text(), ratio, "reported"))
    latency = {"local": local.latency, "ray": ray.latency}
    _peer_row(ctx, result, cluster, ray.latency, ray.peer, latency)
    jobs = ctx.size(full=THROUGHPUT_JOBS, quick=THROUGHPUT_JOBS_QUICK)
    _throughput_row(result, jobs, local.rates, ray.rates, local.failed + ray.failed)
    result.series.append(Series("B8 latency: Ray backend, local backend, Ray Jobs", "ms", latency))
    result.series.append(
        Series("B8 throughput: Ray backend vs local", "jobs/s", {"local": local.rates, "ray": ray.rates})
    )
    return result


def _peer_row(
    ctx: Context,
    result: BenchResult,
    cluster: Cluster,
    ours_ms: list[float],
    ray_jobs: list[float],
    latency: dict[str, list[float]],
) -> None:
    what = "  vs Ray Jobs `true` → SUCCEEDED, same cluster"
    target = f"≤ {TARGET_RATIO}× Ray Jobs"
    if not ray_jobs:
        result.rows.append(Row(ID, what, "skipped", "—", "—", target, Verdict.UNAVAILABLE))
        result.notes.append(f"{ID}: peer Ray Jobs skipped: {cluster.jobs_missing}")
        return
    ours, theirs = Figure.of(ours_ms, "ms"), Figure.of(ray_jobs, "ms")
    ratio = ours.median / theirs.median
    met = ratio <= TARGET_RATIO
    result.rows.append(Row(ID, what, ours.text(), theirs.text(), f"{ratio:.2f}×", target, verdict(ctx, met)))
    paired = statistics.median(o / t for o, t in zip(ours_ms, ray_jobs, strict=True))
    result.notes.append(
        f"{ID}: Ray Jobs at {cluster.jobs_url}, polled every {peer_ray.POLL_S * 1000:.0f} ms "
        f"(customjobs every 1 ms); its jobs alternate one for one with customjobs-on-Ray's; "
        f"the median of the {len(ray_jobs)} pairs' ratios is {paired:.2f}×"
    )
    latency["Ray Jobs"] = ray_jobs


def _throughput_row(
    result: BenchResult, jobs: int, local: list[float], ray: list[float], failed: int
) -> None:
    base, ours = Figure.of(local, "jobs/s"), Figure.of(ray, "jobs/s")
    what = f"Ray backend, B2: {jobs:,} `true` jobs, {b2_throughput.CLIENTS} clients, until all ended"
    result.rows.append(
        Row(ID, what, ours.text(), base.text(), f"{ours.median / base.median:.2f}× local", "reported")
    )
    result.notes.append(
        f"{ID}: the throughput baseline is B2's run, at {jobs:,} jobs a run, on a local-backend server "
        f"of this run; the cluster's nodes declare {NODE_CPUS:,} CPUs and "
        f"{NODE_MEMORY_BYTES / 1024**3:,.0f} GiB each, so every job fits at once"
    )
    if failed:
        result.notes.append(f"{ID}: {failed} throughput job(s) did not end SUCCEEDED")
