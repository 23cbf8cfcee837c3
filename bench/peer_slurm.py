"""Slurm as a peer: `sbatch --wrap=true` to COMPLETED, against a local slurmctld/slurmd.

States come from `squeue --states=all`, which still lists a finished job for MinJobAge
(300 s by default), so no accounting database (slurmdbd) is needed.
"""

from __future__ import annotations

import subprocess
import time

POLL_S = 0.01
DONE = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL"}


class SlurmPeer:
    name = "Slurm"

    def submit(self) -> str:
        out = subprocess.run(
            ["sbatch", "--parsable", "--wrap=true", "--output=/dev/null"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip().split(";")[0]

    def _states(self, ids: list[str]) -> dict[str, str]:
        argv = ["squeue", "--states=all", "--noheader", "--format=%i|%T", f"--jobs={','.join(ids)}"]
        out = subprocess.run(argv, capture_output=True, text=True, check=True)
        states = {}
        for line in out.stdout.splitlines():
            job_id, _, state = line.partition("|")
            states[job_id] = state.split()[0] if state else ""
        return states

    def run_one(self) -> float:
        start = time.perf_counter()
        job_id = self.submit()
        while (state := self._states([job_id]).get(job_id, "")) not in DONE:
            time.sleep(POLL_S)
        if state != "COMPLETED":
            raise RuntimeError(f"Slurm job {job_id} ended {state}")
        return time.perf_counter() - start

    def all_done(self, ids: list[str]) -> bool:
        states = self._states(ids)
        return all(states.get(job_id, "") in DONE for job_id in ids)
