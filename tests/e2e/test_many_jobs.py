"""500 trivial jobs submitted at once to a strict 4-vCPU server: all complete, none lost, and
the state history never shows more running than capacity (4 one-vCPU jobs)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from e2e.capacity_helpers import PARENT, PROJECT, body, peak_usage, pool, running_intervals
from support.server import ServerProcess

JOBS = 500
CLIENTS = 8
FINISH_TIMEOUT_S = 300.0

pytestmark = pytest.mark.timeout(FINISH_TIMEOUT_S + 120)


def test_500_jobs_at_once_all_complete_within_capacity(
    server_factory: type[ServerProcess], tmp_path: Path
) -> None:
    server = server_factory(tmp_path / "many", "--strict-capacity", "--cpus", "4", "--memory-gb", "16")
    server.start()
    job = body("trivial", pool("n1-standard-1", ["true"]))  # 1 vCPU, 3.75 GB: 4 fit at once
    with httpx.Client(base_url=server.url, timeout=60) as client:

        def create(_: int) -> str:
            response = client.post(f"/v1/{PARENT}/customJobs", json=job)
            assert response.status_code == 200, response.text
            return str(response.json()["name"])

        started = time.monotonic()
        with ThreadPoolExecutor(CLIENTS) as pool_:
            names = set(pool_.map(create, range(JOBS)))
        assert len(names) == JOBS

        states: dict[str, int] = {}
        while time.monotonic() - started < FINISH_TIMEOUT_S:
            listed = client.get(f"/v1/{PARENT}/customJobs", params={"pageSize": 1000}).json()["customJobs"]
            states = {}
            for item in listed:
                states[item["state"]] = states.get(item["state"], 0) + 1
            if states.get("JOB_STATE_SUCCEEDED", 0) == JOBS:
                break
            time.sleep(0.5)
        took_s = time.monotonic() - started
    assert states == {"JOB_STATE_SUCCEEDED": JOBS}, states
    intervals = running_intervals(server.data_dir, PROJECT)
    assert len(intervals) == JOBS
    cpus, memory, _, jobs = peak_usage(intervals)
    assert jobs <= 4 and cpus <= 4 and memory <= 16
    print(f"\n{JOBS} jobs, at most {jobs} running at once, all done in {took_s:.1f}s")
