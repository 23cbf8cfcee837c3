"""B7: a pythonPackageSpec job run twice: the second run reuses the cached environment.

The first run of each package set builds its environment; the second must not. Each
pair uses a new package version, so every first run is really a first. Until the server
can run pythonPackageSpec (the execution issue), this prints "not available yet" with the
server's own answer: the capability is probed through the API, never assumed.
Target: second-run median <= 0.2 x first-run median.
"""

from __future__ import annotations

import io
import tarfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.model import BenchResult, Context, Row, Series, Verdict, verdict
from bench.rest import JobsClient
from bench.server import customjobs_server
from bench.stats import Figure

ID = "B7"
TITLE = "pythonPackageSpec cached environment"
TARGET_RATIO = 0.2
# How a server without the feature refuses such a job (the process runtime today: "has no command").
_NOT_YET = ("cannot run yet", "not supported", "unsupported", "not implemented", "has no command")
_FILES = {
    "setup.py": (
        "from setuptools import setup\nsetup(name='bench-trainer', version='{v}', packages=['trainer'])\n"
    ),
    "PKG-INFO": "Metadata-Version: 2.1\nName: bench-trainer\nVersion: {v}\n",
    "trainer/__init__.py": "",
    "trainer/task.py": "print('bench trainer {v} ran')\n",
}


def make_sdist(out_dir: Path, version: str) -> Path:
    """A minimal source distribution of a `trainer` package, as Vertex users upload."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"bench-trainer-{version}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, text in _FILES.items():
            data = text.format(v=version).encode()
            info = tarfile.TarInfo(f"bench-trainer-{version}/{name}")
            info.size, info.mtime = len(data), int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return path


def package_job(sdist: Path) -> dict[str, Any]:
    pool = {
        "machineSpec": {"machineType": "n1-standard-4"},
        "replicaCount": "1",
        "pythonPackageSpec": {
            "executorImageUri": "us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest",
            "packageUris": [sdist.as_uri()],
            "pythonModule": "trainer.task",
        },
    }
    return {"displayName": "bench-package", "jobSpec": {"workerPoolSpecs": [pool]}}


def _unavailable(message: str) -> bool:
    lowered = message.lower()
    return any(words in lowered for words in _NOT_YET)


def _run_once(client: JobsClient, sdist: Path) -> float | str:
    """Seconds the job took, or the server's reason why it cannot run such jobs."""
    try:
        seconds, job = client.run_to_end(package_job(sdist))
    except httpx.HTTPStatusError as exc:
        message = str(exc.response.json().get("error", {}).get("message", exc))
        if _unavailable(message):
            return message
        raise
    if job["state"] == "JOB_STATE_SUCCEEDED":
        return seconds
    message = str(job.get("error", {}).get("message", job["state"]))
    if _unavailable(message):
        return message
    raise RuntimeError(f"pythonPackageSpec job ended {job['state']}: {message}")


def run(ctx: Context) -> BenchResult:
    pairs = ctx.size(full=3, quick=1)
    result = BenchResult()
    first: list[float] = []
    second: list[float] = []
    with customjobs_server(ctx.workdir / "b7") as server:
        server.start()
        client = JobsClient(server.url)
        try:
            for p in range(pairs):
                sdist = make_sdist(ctx.workdir / "b7-packages", f"0.0.{p}")
                took = _run_once(client, sdist)
                if isinstance(took, str):
                    reason = took.splitlines()[0]
                    result.rows.append(
                        Row(
                            ID,
                            "pythonPackageSpec 2nd run (cached env)",
                            "not available yet",
                            target=f"≤ {TARGET_RATIO}× first run",
                            verdict=Verdict.UNAVAILABLE,
                        )
                    )
                    result.notes.append(f"{ID}: not available yet; the server says: {reason}")
                    return result
                first.append(took)
                again = _run_once(client, sdist)
                if isinstance(again, str):
                    raise RuntimeError(f"the second run was refused after the first ran: {again}")
                second.append(again)
        finally:
            client.close()
    one, two = Figure.of(first, "s"), Figure.of(second, "s")
    ratio = two.median / one.median
    result.rows.append(
        Row(
            ID,
            "pythonPackageSpec 2nd run (cached env)",
            two.text(2),
            one.text(2),
            f"{ratio:.2f}×",
            f"≤ {TARGET_RATIO}× first run",
            verdict(ctx, ratio <= TARGET_RATIO),
        )
    )
    result.series.append(
        Series("B7 pythonPackageSpec run time", "s", {"first run": first, "second run": second})
    )
    return result
