"""Cancel what a test left running: a server stops without stopping replicas (by design)."""

from __future__ import annotations

import time

import requests

ACTIVE = {"JOB_STATE_QUEUED", "JOB_STATE_PENDING", "JOB_STATE_RUNNING", "JOB_STATE_CANCELLING"}
CLEANUP_TIMEOUT_S = 30.0


def cancel_all(server_url: str, parent: str) -> None:
    """Cancel every unfinished job under `parent` and wait until each has ended."""
    url = f"{server_url}/v1/{parent}/customJobs"
    deadline = time.monotonic() + CLEANUP_TIMEOUT_S
    while time.monotonic() < deadline:
        jobs = requests.get(url, params={"pageSize": 1000}, timeout=10).json().get("customJobs", [])
        active = [j for j in jobs if j["state"] in ACTIVE]
        if not active:
            return
        for job in active:
            if job["state"] != "JOB_STATE_CANCELLING":
                requests.post(f"{server_url}/v1/{job['name']}:cancel", json={}, timeout=10)
        time.sleep(0.2)
    raise AssertionError(f"jobs under {parent} did not end within {CLEANUP_TIMEOUT_S}s")
