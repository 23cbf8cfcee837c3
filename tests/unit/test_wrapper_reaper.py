"""The wrappers' one reaper thread: every wrapper is reaped as it ends, with its status, and
the scheduler is woken each time; real processes, real pidfds."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from customjobs.execution.backends.local.wrapper import Wrappers, read_exit, read_pid

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


def test_a_status_file_counts_only_once_its_line_is_whole(tmp_path: Path) -> None:
    # The wrapper's `echo` creates the file, then writes the number and its newline in one
    # write(2): a reader between the two, or of a torn write, must see "not written yet".
    prefix = tmp_path / "r"
    exit_file, pid_file = Path(f"{prefix}.exit"), Path(f"{prefix}.pid")
    for partial in ("", "1", "12"):
        exit_file.write_text(partial)
        pid_file.write_text(partial)
        assert (read_exit(prefix), read_pid(prefix)) == (None, None)
    exit_file.write_text("127\n")
    pid_file.write_text("4242\n")
    assert read_exit(prefix) == 127
    assert read_pid(prefix) == (4242, pid_file.stat().st_mtime)
    exit_file.write_text("x\n")
    assert read_exit(prefix) is None


def test_the_wrapper_records_its_own_pid_and_the_commands_status(tmp_path: Path) -> None:
    wrappers = Wrappers(lambda: None)
    pid = wrappers.spawn(tmp_path / "r", ["sh", "-c", "exit 3"], tmp_path / "r.log", None)
    _until(lambda: wrappers.returncode(pid) is not None, "the wrapper was never reaped")
    found = read_pid(tmp_path / "r")
    assert found is not None and found[0] == pid
    assert read_exit(tmp_path / "r") == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.exit", "r.log", "r.pid"]  # nothing left beside
