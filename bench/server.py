"""Servers started for the benchmarks: `customjobs serve` and the bare baseline app.

Each is a real subprocess on a free loopback port with its own data dir, as a user runs
it (the pattern of tests/support/server.py). With a profile dir, py-spy samples the
server from the end of the benchmark's warm-up until it stops, and leaves its collapsed
stacks there.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
POLL_INTERVAL_S = 0.005
REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def py_spy() -> str | None:
    """The py-spy executable (the `bench` extra installs it beside this interpreter)."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def customjobs_argv() -> list[str]:
    """The `customjobs` console script beside this interpreter, as a user would run it."""
    script = Path(sys.executable).parent / "customjobs"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "customjobs.cli.main"]


class Subprocess:
    """A server subprocess that answers HTTP on 127.0.0.1:port once started."""

    def __init__(self, argv: list[str], log_path: Path, port: int, profile_to: Path | None = None) -> None:
        self.argv = argv
        self.log_path = log_path
        self.port = port
        self.profile_to = profile_to
        self.proc: subprocess.Popen[bytes] | None = None
        self._spy: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError("not started")
        return self.proc.pid

    def start(self, health_path: str = "/healthz") -> float:
        """Start it; return the seconds from spawn to its first answered request."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        deadline = began + START_TIMEOUT_S
        with httpx.Client(timeout=2.0) as client:
            while time.perf_counter() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"{self.argv[0]} exited with {self.proc.returncode}:\n{self.log_path.read_text()}"
                    )
                try:
                    if client.get(self.url + health_path).status_code == 200:
                        return time.perf_counter() - began
                except httpx.TransportError:
                    time.sleep(POLL_INTERVAL_S)
        self.stop()
        raise RuntimeError(f"{self.argv} did not answer within {START_TIMEOUT_S}s")

    def stop(self) -> None:
        self._stop_profiler()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def profile(self) -> None:
        """Start sampling with py-spy, if a profile was asked for: call it after the warm-up."""
        spy = py_spy()
        if self.profile_to is None or spy is None:
            return
        self.profile_to.parent.mkdir(parents=True, exist_ok=True)
        argv = [spy, "record", "--pid", str(self.pid), "--format", "raw", "--rate", "250"]
        argv += ["--output", str(self.profile_to), "--threads"]
        self._spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # py-spy attaches before the measured work begins

    def _stop_profiler(self) -> None:
        if self._spy is not None and self._spy.poll() is None:
            self._spy.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            try:
                self._spy.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._spy.kill()
                self._spy.wait()
        self._spy = None

    def __enter__(self) -> Subprocess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


BENCH_CAPACITY = ("--cpus", "4096", "--memory-gb", "16384")


def customjobs_server(data_dir: Path, profile_to: Path | None = None, *extra: str) -> Subprocess:
    """`customjobs serve` on a free port over `data_dir` (not yet started)."""
    port = free_port()
    argv = [*customjobs_argv(), "serve", "--port", str(port), "--data-dir", str(data_dir)]
    # The benchmarks measure the control plane. Their trivial `true` jobs declare
    # n1-standard-4, which the default (lenient) capacity of a small machine would run one
    # at a time; declaring a large capacity lets them run side by side, as the baselines do.
    argv += [*BENCH_CAPACITY, *extra]
    return Subprocess(argv, data_dir.parent / f"{data_dir.name}.server.log", port, profile_to)


def bare_server(log_dir: Path, profile_to: Path | None = None) -> Subprocess:
    """The baseline: the same framework and server answering constant JSON (bench/bare_app.py)."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.bare_app", "--port", str(port)]
    return Subprocess(argv, log_dir / f"bare-{port}.log", port, profile_to)
