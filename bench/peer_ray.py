"""Ray Jobs as a peer: `JobSubmissionClient.submit_job(entrypoint="true")` to SUCCEEDED."""

from __future__ import annotations

import time
from typing import Any

import httpx

POLL_S = 0.01
DONE = {"SUCCEEDED", "FAILED", "STOPPED"}


class RayPeer:
    name = "Ray Jobs"

    def __init__(self, address: str) -> None:
        from ray.job_submission import JobSubmissionClient

        self.client: Any = JobSubmissionClient(address)

    def submit(self) -> str:
        return str(self.client.submit_job(entrypoint="true"))

    def _status(self, job_id: str) -> str:
        return str(self.client.get_job_status(job_id)).rsplit(".", 1)[-1]

    def run_one(self) -> float:
        start = time.perf_counter()
        job_id = self.submit()
        while (status := self._status(job_id)) not in DONE:
            time.sleep(POLL_S)
        if status != "SUCCEEDED":
            raise RuntimeError(f"Ray job {job_id} ended {status}")
        return time.perf_counter() - start

    def all_done(self, ids: list[str]) -> bool:
        return all(self._status(job_id) in DONE for job_id in ids)


def missing_ray_default() -> str | None:
    """What this environment lacks to run Ray's job server (a dashboard module), or None."""
    try:
        from ray.dashboard.modules.job import job_head  # noqa: F401
    except ImportError as exc:
        return f"Ray's job server needs ray[default] ({exc}; bench/peers.sh up installs it)"
    return None


def not_answering(url: str) -> str | None:
    """Why no Ray job server answers at `url` (a dashboard address), or None when one does."""
    try:
        httpx.get(url + "/api/version", timeout=2).raise_for_status()
    except httpx.HTTPError as exc:
        return f"no Ray job server answers at {url} ({exc})"
    return None
