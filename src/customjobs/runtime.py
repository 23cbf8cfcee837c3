"""The composition root: builds the store, backend, scheduler and services once.

REST (and later gRPC) servers share one Runtime, so both transports call the very same
service objects and the scheduler runs once per process (and, with several servers on
one database, in the one process holding the scheduler lease).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from customjobs.config import Settings
from customjobs.domain.job import Job
from customjobs.execution import host
from customjobs.execution.backends.registry import make_backend
from customjobs.execution.children import ChildExecutions
from customjobs.execution.logs.files import LogLayout
from customjobs.execution.scheduler.holders import local_holder_is_dead, new_holder_id
from customjobs.execution.scheduler.lease import LeaseKeeper
from customjobs.execution.scheduler.loop import Scheduler
from customjobs.execution.scheduler.queueing import create_check
from customjobs.kms.jobdata import JobEncryption
from customjobs.kms.local import KEYRING_DIR_NAME, LocalKeyRing
from customjobs.resources.custom_jobs.service import JobService
from customjobs.resources.models.service import ModelService
from customjobs.resources.operations.service import OperationService
from customjobs.resources.pipelines.controller import PipelineController
from customjobs.resources.pipelines.service import PipelineService
from customjobs.resources.tuning import trials
from customjobs.resources.tuning.controller import TuningController
from customjobs.resources.tuning.service import TuningService
from customjobs.security.access import AccessControl
from customjobs.security.setup import build_access
from customjobs.storage.objects import LocalBuckets
from customjobs.store.sql.engine import make_engine, upgrade
from customjobs.store.sql.leases import SqlLeaseStore
from customjobs.store.sql.models import SqlModelStore
from customjobs.store.sql.pipelines import SqlPipelineStore
from customjobs.store.sql.store import SqlStore
from customjobs.store.sql.tuning import SqlTuningStore
from customjobs.telemetry.metrics import Metrics

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    store: SqlStore
    layout: LogLayout
    scheduler: Scheduler
    jobs: JobService
    operations: OperationService
    lease: LeaseKeeper
    metrics: Metrics
    # Who may do what (security/), and the data of jobs with encryptionSpec (kms/).
    access: AccessControl
    encryption: JobEncryption
    tuning: TuningService
    pipelines: PipelineService
    models: ModelService
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _renewer: threading.Thread | None = None

    def start(self) -> None:
        self._renewer = threading.Thread(target=self.lease.run, name="scheduler-lease", daemon=True)
        self._renewer.start()
        self._thread = threading.Thread(
            target=self.scheduler.run_forever, args=(self._stop,), name="scheduler", daemon=True
        )
        self._thread.start()

    @property
    def draining(self) -> bool:
        return self.jobs.draining

    def begin_drain(self) -> None:
        """SIGTERM: refuse new jobs and stop scheduling; the scheduler thread hands the lease
        over as it ends. Replicas keep running. Safe to call from a signal handler: it never blocks."""
        self.jobs.draining = True
        self._stop.set()
        self.scheduler.wake()

    def stop(self) -> None:
        """Stop scheduling; replicas keep running and are re-attached by the next server."""
        self._stop.set()
        self.scheduler.wake()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.lease.release()
        if self._renewer is not None:
            self._renewer.join(timeout=10)
        self.scheduler.backend.close()
        self.store.engine.dispose()


def build_runtime(settings: Settings) -> Runtime:
    """Raises SecurityConfigError (a ValueError) for security settings that cannot be used."""
    access = build_access(settings.security)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url, settings.sqlite_synchronous)
    upgrade(engine)
    store = SqlStore(engine)
    layout = LogLayout(settings.jobs_dir)
    lease = LeaseKeeper(
        SqlLeaseStore(engine),
        settings.server_id or new_holder_id(),
        settings.lease_ttl_s,
        is_dead=local_holder_is_dead if settings.lease_local_takeover else None,
    )
    metrics = Metrics(store.count_by_state, lease.held)
    holder: list[Scheduler] = []
    backend = make_backend(settings, notify=lambda: holder[0].wake() if holder else None)
    # A backend that runs elsewhere (Ray) says what it has; the local ones run on this machine.
    capacity = host.resolve(settings, detected=getattr(backend, "detected_capacity", lambda: None)())
    scheduler = Scheduler(store, backend, layout, settings, lease=lease, metrics=metrics, capacity=capacity)
    lease.on_acquired = scheduler.wake
    holder.append(scheduler)
    encryption = JobEncryption(
        LocalKeyRing(settings.data_dir / KEYRING_DIR_NAME), layout, LocalBuckets(settings.buckets_dir)
    )
    scheduler.open_spec = encryption.plain_spec
    scheduler.hides_logs = encryption.is_encrypted
    scheduler.on_ended = encryption.on_job_ended

    def on_deleted(job: Job) -> None:
        layout.remove_job(job.id)

    jobs = JobService(store, wake=scheduler.wake, on_deleted=on_deleted, check=create_check(capacity))
    # Resources whose controllers own child executions run their passes in the scheduler's loop.
    tuning_store = SqlTuningStore(engine)
    children = ChildExecutions(store, scheduler.wake, seal=encryption.seal_new, on_removed=layout.remove_job)
    scheduler.controllers.append(TuningController(tuning_store, children, settings.data_dir).run_once)
    tuning = TuningService(tuning_store, wake=scheduler.wake, draining=lambda: jobs.draining)
    tuning.on_deleted = lambda job: children.remove_owned(trials.owner_of(job))
    models = ModelService(SqlModelStore(engine))
    pipeline_store = SqlPipelineStore(engine)
    scheduler.controllers.append(PipelineController(pipeline_store, children, tuning, models).run_once)
    pipelines = PipelineService(pipeline_store, wake=scheduler.wake, draining=lambda: jobs.draining)
    return Runtime(
        settings,
        store,
        layout,
        scheduler,
        jobs,
        OperationService(store),
        lease,
        metrics,
        access,
        encryption,
        tuning,
        pipelines,
        models,
    )
