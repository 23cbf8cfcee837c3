"""The wrappers' one reaper thread: every wrapper is reaped as it ends, with its status, and
the scheduler is woken each time; real processes, real pidfds."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from customjobs.execution.backends.local.wrapper import Wrappers, read_exit

DEADLINE_S = 20.0


def _until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_many_wrappers_are_reaped_with_their_status_and_each_end_wakes(tmp_path: Path) -> None:
    woken = threading.Semaphore(0)
    wrappers = Wrappers(woken.release)
    pids = {}
    for code in range(40):
        prefix = tmp_path / f"r{code}"
        pids[code] = wrappers.spawn(prefix, ["sh", "-c", f"exit {code}"], tmp_path / f"r{code}.log", None)
    for _ in pids:
        assert woken.acquire(timeout=DEADLINE_S)
    for code, pid in pids.items():
        assert wrappers.returncode(pid) == code
        assert not wrappers.alive(pid, None)
        assert read_exit(tmp_path / f"r{code}") == code
    # Reaped, not left as zombies: the kernel has no such child any more.
    for pid in pids.values():
        assert not os.path.exists(f"/proc/{pid}")


def test_a_killed_wrapper_reads_as_128_plus_the_signal(tmp_path: Path) -> None:
    wrappers = Wrappers(lambda: None)
    pid = wrappers.spawn(tmp_path / "r", ["sleep", "60"], tmp_path / "r.log", None)
    assert wrappers.alive(pid, None)
    os.killpg(pid, signal.SIGKILL)
    _until(lambda: wrappers.returncode(pid) is not None, "the killed wrapper was never reaped")
    assert wrappers.returncode(pid) == 128 + signal.SIGKILL
    assert read_exit(tmp_path / "r") is None  # it never got to write one


def test_spawns_from_several_threads_are_all_reaped(tmp_path: Path) -> None:
    wrappers = Wrappers(lambda: None)
    pids: list[int] = []
    lock = threading.Lock()

    def spawn(i: int) -> None:
        pid = wrappers.spawn(tmp_path / f"t{i}", ["true"], tmp_path / f"t{i}.log", None)
        with lock:
            pids.append(pid)

    threads = [threading.Thread(target=spawn, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _until(lambda: all(wrappers.returncode(p) == 0 for p in pids), "not every wrapper was reaped")
