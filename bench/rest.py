"""The benchmarks' REST client: create a job, watch it end, list, as any Vertex client does."""

from __future__ import annotations

import time
from typing import Any

import httpx

PROJECT = "bench"
LOCATION = "us-central1"
PARENT = f"projects/{PROJECT}/locations/{LOCATION}"
JOBS_PATH = f"/v1/{PARENT}/customJobs"
TERMINAL = frozenset({"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"})
# Between two GETs of a job being watched: short, so the figure is the server's, not ours.
WATCH_INTERVAL_S = 0.001
WAIT_TIMEOUT_S = 120.0


def job_body(command: list[str], labels: dict[str, str] | None = None, name: str = "bench") -> dict[str, Any]:
    """A one-replica containerSpec job running `command` on the host."""
    pool = {
        "machineSpec": {"machineType": "n1-standard-4"},
        "replicaCount": "1",
        "containerSpec": {"imageUri": "local", "command": command},
    }
    return {"displayName": name, "labels": labels or {}, "jobSpec": {"workerPoolSpecs": [pool]}}


class JobsClient:
    """Blocking calls on one keep-alive connection."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=60.0)

    def close(self) -> None:
        self.http.close()

    def create(self, body: dict[str, Any]) -> str:
        response = self.http.post(JOBS_PATH, json=body)
        response.raise_for_status()
        return str(response.json()["name"])

    def get(self, name: str) -> dict[str, Any]:
        response = self.http.get(f"/v1/{name}")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def wait(self, name: str, timeout_s: float = WAIT_TIMEOUT_S) -> dict[str, Any]:
        """GET the job until it is in a terminal state; return that answer."""
        deadline = time.monotonic() + timeout_s
        while True:
            job = self.get(name)
            if job["state"] in TERMINAL:
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} still {job['state']} after {timeout_s}s")
            time.sleep(WATCH_INTERVAL_S)

    def list(self, filter_text: str, page_size: int, page_token: str = "") -> dict[str, Any]:
        params = {"filter": filter_text, "pageSize": str(page_size)}
        if page_token:
            params["pageToken"] = page_token
        response = self.http.get(JOBS_PATH, params=params)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def count(self, filter_text: str) -> int:
        """How many jobs match, by paging through them."""
        total, token = 0, ""
        while True:
            page = self.list(filter_text, 1000, token)
            total += len(page.get("customJobs", []))
            token = page.get("nextPageToken", "")
            if not token:
                return total

    def run_to_end(self, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        """Create a job and watch it end: (seconds from create sent to end seen, final job)."""
        start = time.perf_counter()
        job = self.wait(self.create(body))
        return time.perf_counter() - start, job


def succeeded(job: dict[str, Any]) -> None:
    if job["state"] != "JOB_STATE_SUCCEEDED":
        raise RuntimeError(f"{job['name']} ended {job['state']}: {job.get('error', {}).get('message', '')}")
