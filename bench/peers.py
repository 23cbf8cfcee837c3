"""Peers measured beside customjobs in B1 and B2 when installed: Ray Jobs and Slurm.

Each peer says whether it can run here and, if not, why; bench/README.md says how to
install and start each on one machine. Their addresses come from the environment the
peers' own tools read (RAY_ADDRESS; Slurm's slurm.conf).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import httpx

from bench import peer_ray, peer_slurm

DEFAULT_RAY_DASHBOARD = "http://127.0.0.1:8265"
BATCH_POLL_S = 0.1


class Peer(Protocol):
    name: str

    def run_one(self) -> float:
        """Seconds from submitting a `true` job to seeing it succeed."""
        ...

    def submit(self) -> str: ...

    def all_done(self, ids: list[str]) -> bool: ...


@dataclass(frozen=True)
class Availability:
    name: str
    peer: Peer | None
    reason: str

    def skipped_line(self, bench: str) -> str:
        return f"{bench}: peer {self.name} skipped: {self.reason}"


def ray() -> Availability:
    try:
        from ray.job_submission import JobSubmissionClient  # noqa: F401
    except ImportError:
        return Availability("Ray Jobs", None, "ray is not installed (pip install 'ray[default]')")
    address = os.environ.get("RAY_ADDRESS", DEFAULT_RAY_DASHBOARD)
    if not address.startswith("http"):
        address = DEFAULT_RAY_DASHBOARD
    try:
        httpx.get(address + "/api/version", timeout=2).raise_for_status()
    except httpx.HTTPError as exc:
        return Availability("Ray Jobs", None, f"no Ray head answers at {address} ({exc}); `ray start --head`")
    return Availability("Ray Jobs", peer_ray.RayPeer(address), f"Ray head at {address}")


def slurm() -> Availability:
    if shutil.which("sbatch") is None:
        return Availability("Slurm", None, "sbatch is not installed (apt-get install slurm-wlm)")
    ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, check=False)
    if ping.returncode != 0 or "UP" not in ping.stdout:
        return Availability(
            "Slurm", None, f"slurmctld is not up: {ping.stdout.strip() or ping.stderr.strip()}"
        )
    return Availability("Slurm", peer_slurm.SlurmPeer(), "local slurmctld/slurmd")


def all_peers() -> list[Availability]:
    return [ray(), slurm()]


def throughput(peer: Peer, jobs: int, clients: int) -> float:
    """Jobs per second: `jobs` submissions from `clients` threads, until all have ended."""
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        ids = list(pool.map(lambda _: peer.submit(), range(jobs)))
    while not peer.all_done(ids):
        time.sleep(BATCH_POLL_S)
    return jobs / (time.perf_counter() - start)
