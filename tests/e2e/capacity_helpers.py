"""Helpers for the capacity tests: job bodies, gates, and the capacity check from the history.

Jobs are plain REST bodies (the queue's reason is an extra JSON member only REST carries);
a gate is a file a replica waits for, so a test decides when a job ends without timing.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from customjobs.domain.machines import machine_type
from customjobs.domain.states import TERMINAL, JobState
from customjobs.store.sql.engine import make_engine
from customjobs.store.sql.store import SqlStore

PROJECT = "capacity"
LOCATION = "us-central1"
PARENT = f"projects/{PROJECT}/locations/{LOCATION}"
TIMEOUT_S = 60.0
POLL_S = 0.05


def gated(gate: Path, then: str = "true") -> list[str]:
    """A command that waits until `gate` exists, then runs `then`."""
    return ["sh", "-c", f'while [ ! -e "{gate}" ]; do sleep 0.05; done; {then}']


def pool(machine: str, command: list[str], replicas: int = 1, gpus: int = 0) -> dict[str, Any]:
    spec: dict[str, Any] = {"machineType": machine}
    if gpus:
        spec.update(acceleratorType="NVIDIA_TESLA_T4", acceleratorCount=gpus)
    return {
        "machineSpec": spec,
        "replicaCount": str(replicas),
        "containerSpec": {"imageUri": "local", "command": command},
    }


def body(name: str, *pools: dict[str, Any], priority: int | None = None, **scheduling: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"workerPoolSpecs": list(pools)}
    if scheduling:
        spec["scheduling"] = scheduling
    labels = {} if priority is None else {"customjobs-priority": str(priority)}
    return {"displayName": name, "labels": labels, "jobSpec": spec}


@dataclass
class Api:
    url: str
    session: requests.Session = field(default_factory=requests.Session)

    def create(self, job: dict[str, Any]) -> str:
        response = self.session.post(f"{self.url}/v1/{PARENT}/customJobs", json=job, timeout=30)
        assert response.status_code == 200, response.text
        return str(response.json()["name"])

    def get(self, name: str) -> dict[str, Any]:
        response = self.session.get(f"{self.url}/v1/{name}", timeout=30)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def wait(self, name: str, *states: str, timeout_s: float = TIMEOUT_S) -> dict[str, Any]:
        wanted = set(states) or {s.value for s in TERMINAL}
        deadline = time.monotonic() + timeout_s
        while True:
            job = self.get(name)
            if job["state"] in wanted:
                return job
            assert time.monotonic() < deadline, f"{name} still {job['state']} after {timeout_s}s"
            time.sleep(POLL_S)


def job_need(spec: dict[str, Any]) -> tuple[float, float, int]:
    """vCPUs, GB of memory and GPUs a job asks for, from the published machine table."""
    cpus = memory = 0.0
    gpus = 0
    for p in spec["workerPoolSpecs"]:
        if not p:
            continue
        machine = machine_type(p["machineSpec"]["machineType"])
        assert machine is not None
        replicas = int(p.get("replicaCount", 1))
        cpus += machine.vcpus * replicas
        memory += machine.memory_gb * replicas
        gpus += int(p["machineSpec"].get("acceleratorCount", 0)) * replicas
    return cpus, memory, gpus


def running_intervals(
    data_dir: Path, project: str = PROJECT
) -> list[tuple[int, float, int, tuple[float, float, int]]]:
    """(job id, RUNNING from, until, need) for every job, read from the state history."""
    import json

    engine = make_engine(f"sqlite:///{data_dir / 'customjobs.db'}")
    try:
        store = SqlStore(engine)
        intervals = []
        for job in store.list_jobs(project, LOCATION, None, 100_000, None):
            need = job_need(json.loads(job.spec_json)["jobSpec"])
            start: int | None = None
            for event in store.events(job.id):
                if event.state is JobState.RUNNING:
                    start = event.time_us
                elif start is not None and (event.state in TERMINAL or event.state is JobState.PENDING):
                    intervals.append((job.id, start, float(event.time_us), need))
                    start = None
            if start is not None:
                intervals.append((job.id, start, math.inf, need))
        return intervals
    finally:
        engine.dispose()


def peak_usage(
    intervals: list[tuple[int, float, float, tuple[float, float, int]]],
) -> tuple[float, float, int, int]:
    """The most vCPUs, memory, GPUs and jobs in use at any one moment (ends before starts)."""
    points = []
    for _, start, end, need in intervals:
        points.append((start, 1, need))
        points.append((end, 0, need))
    cpus = memory = 0.0
    gpus = jobs = 0
    peak = (0.0, 0.0, 0, 0)
    for _, starting, (c, m, g) in sorted(points, key=lambda p: (p[0], p[1])):
        sign = 1 if starting else -1
        cpus, memory, gpus, jobs = cpus + sign * c, memory + sign * m, gpus + sign * g, jobs + sign
        peak = (max(peak[0], cpus), max(peak[1], memory), max(peak[2], gpus), max(peak[3], jobs))
    return peak


def running_order(data_dir: Path, names: list[str]) -> list[str]:
    """The jobs among `names` in the order they first became RUNNING."""
    ids = {int(n.rsplit("/", 1)[1]): n for n in names}
    firsts = {}
    for job_id, start, _, _ in running_intervals(data_dir):
        if job_id in ids:
            firsts.setdefault(job_id, start)
    return [ids[j] for j in sorted(firsts, key=lambda j: firsts[j])]
