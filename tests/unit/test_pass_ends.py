"""The jobs that end in one scheduler pass are written together, each by its own
compare-and-set, and one that cannot end does not hold the others back."""

from __future__ import annotations

from pathlib import Path

from customjobs.config import Settings
from customjobs.domain.job import Job, NewJob
from customjobs.domain.states import JobState
from customjobs.execution.backends.base import Handle, LaunchRequest, ReplicaFact, ReplicaStatus
from customjobs.execution.logs.files import LogLayout
from customjobs.execution.scheduler.loop import Scheduler
from customjobs.store.sql.store import SqlStore
from unit.test_launch_guard import SPEC, CountingBackend


class EndedBackend(CountingBackend):
    """Every replica it started has exited: job N's with exit code N % 2 (odd ones fail)."""

    name = "ended"

    def __init__(self) -> None:
        super().__init__()
        self.released: list[int] = []

    def start(self, request: LaunchRequest) -> Handle:
        return {"backend": self.name, "job": request.job_id, "replicas": [{"name": "workerpool0-0"}]}

    def poll(self, handle: Handle) -> list[ReplicaFact]:
        return [ReplicaFact("workerpool0-0", ReplicaStatus.EXITED, handle["job"] % 2)]

    def all_stopped(self, handle: Handle) -> bool:
        return True

    def release(self, handle: Handle) -> None:
        self.released.append(handle["job"])


def test_the_ends_of_a_pass_land_together_and_one_failing_hook_fails_alone(
    store: SqlStore, tmp_path: Path
) -> None:
    ids = list(range(1, 9))
    for job_id in ids:
        store.insert_job(job_id, NewJob("p", "l", f"j{job_id}", {}, SPEC), JobState.PENDING, job_id)
    settings = Settings(data_dir=tmp_path)
    backend = EndedBackend()
    scheduler = Scheduler(store, backend, LogLayout(settings.jobs_dir), settings)
    scheduler.run_once()  # launches all eight
    assert {store.get_job(i).state for i in ids} == {JobState.RUNNING}  # type: ignore[union-attr]

    def on_ended(job: Job) -> None:
        if job.id == 5:
            raise RuntimeError("its key is gone")  # e.g. sealing its data failed

    scheduler.on_ended = on_ended
    result = scheduler.run_once()  # every replica has exited: all end in this pass but job 5

    states = {i: store.get_job(i).state for i in ids}  # type: ignore[union-attr]
    expected = {i: JobState.FAILED if i % 2 else JobState.SUCCEEDED for i in ids}
    assert states == expected | {5: JobState.RUNNING}  # its hook failed: it ends on a later pass
    assert result.finished == 7
    assert sorted(backend.released) == [1, 2, 3, 4, 6, 7, 8]
    assert [e.state for e in store.events(2)] == [JobState.PENDING, JobState.RUNNING, JobState.SUCCEEDED]
    failed = store.get_job(3)
    assert failed is not None and failed.error_message is not None and "exit" in failed.error_message.lower()
