"""Prometheus metrics, one registry per runtime (several runtimes in one test process never clash).

Counts by state are read from the database at scrape time, so every server behind a load
balancer reports the same truth; latencies are observed where they happen (admission by the
scheduler that moves the job, requests by the server that answers them), so summing them
across servers is right.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from customjobs.domain.states import JobState
from customjobs.errors import Unavailable

log = logging.getLogger(__name__)

# Jobs waiting for replicas: accepted but not yet running.
QUEUED_STATES = frozenset({JobState.QUEUED, JobState.PENDING})
ADMISSION_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
REQUEST_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class _StoreCollector(Collector):
    """Gauges computed at scrape time: one cheap GROUP BY, and the lease flag."""

    def __init__(
        self, count_by_state: Callable[[], dict[JobState, int]], lease_held: Callable[[], bool]
    ) -> None:
        self.count_by_state = count_by_state
        self.lease_held = lease_held

    def collect(self) -> Iterable[Metric]:
        lease = GaugeMetricFamily(
            "customjobs_scheduler_lease_held", "1 while this server holds the scheduler lease."
        )
        lease.add_metric([], 1.0 if self.lease_held() else 0.0)
        yield lease
        try:
            counts = self.count_by_state()
        except Unavailable:  # the store is down: logged once per outage (store/outage.py)
            return
        except Exception as exc:
            log.warning("metrics: could not count jobs: %s", exc)
            return
        jobs = GaugeMetricFamily("customjobs_jobs", "Jobs in the database, by state.", labels=["state"])
        for state in JobState:
            jobs.add_metric([state.value], float(counts.get(state, 0)))
        yield jobs
        queue = GaugeMetricFamily("customjobs_queue_length", "Jobs accepted and not yet running.")
        queue.add_metric([], float(sum(counts.get(s, 0) for s in QUEUED_STATES)))
        yield queue


class Metrics:
    def __init__(
        self, count_by_state: Callable[[], dict[JobState, int]], lease_held: Callable[[], bool]
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.admission_s = Histogram(
            "customjobs_admission_latency_seconds",
            "From a job's create to its move to RUNNING.",
            buckets=ADMISSION_BUCKETS_S,
            registry=self.registry,
        )
        self.finished = Counter(
            "customjobs_jobs_finished",
            "Jobs this server's scheduler moved to a terminal state, by state.",
            ["state"],
            registry=self.registry,
        )
        self.request_s = Histogram(
            "customjobs_http_request_duration_seconds",
            "REST requests by method, route template and HTTP status.",
            ["method", "route", "code"],
            buckets=REQUEST_BUCKETS_S,
            registry=self.registry,
        )
        self.registry.register(_StoreCollector(count_by_state, lease_held))

    def job_running(self, create_us: int, now_us: int) -> None:
        self.admission_s.observe(max(0, now_us - create_us) / 1e6)

    def job_finished(self, state: JobState) -> None:
        self.finished.labels(state.value).inc()

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
