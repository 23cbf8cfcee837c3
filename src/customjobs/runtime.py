"""The composition root: builds the store, backend, scheduler and services once.

REST (and later gRPC) servers share one Runtime, so both transports call the very same
service objects and the scheduler runs once per process.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from customjobs.backends.registry import make_backend
from customjobs.config import Settings
from customjobs.domain.job import Job
from customjobs.logs.files import LogLayout
from customjobs.scheduler.loop import Scheduler
from customjobs.service.jobs import JobService
from customjobs.service.operations import OperationService
from customjobs.store.sql.engine import make_engine, upgrade
from customjobs.store.sql.store import SqlStore

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    store: SqlStore
    layout: LogLayout
    scheduler: Scheduler
    jobs: JobService
    operations: OperationService
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.scheduler.run_forever, args=(self._stop,), name="scheduler", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop scheduling; replicas keep running and are re-attached by the next server."""
        self._stop.set()
        self.scheduler.wake()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.scheduler.backend.close()
        self.store.engine.dispose()


def build_runtime(settings: Settings) -> Runtime:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    upgrade(engine)
    store = SqlStore(engine)
    layout = LogLayout(settings.jobs_dir)
    holder: list[Scheduler] = []
    backend = make_backend(settings, notify=lambda: holder[0].wake() if holder else None)
    scheduler = Scheduler(store, backend, layout, settings)
    holder.append(scheduler)

    def on_deleted(job: Job) -> None:
        layout.remove_job(job.id)

    jobs = JobService(store, wake=scheduler.wake, on_deleted=on_deleted)
    return Runtime(settings, store, layout, scheduler, jobs, OperationService(store))
