"""Spare job environments: built ahead in the background, each taken by exactly one launch."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from customjobs.execution.backends.packages import venvs
from customjobs.execution.backends.packages.venv_spares import VenvSpares

DEADLINE_S = 30.0


def _ready(folder: Path) -> int:
    return sum(1 for p in folder.iterdir() if p.name.startswith("ready-")) if folder.exists() else 0


def _until_ready(folder: Path, count: int) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while _ready(folder) < count:
        listing = sorted(p.name for p in folder.iterdir()) if folder.exists() else "no folder"
        refilling = [t.name for t in threading.enumerate() if t.name == "venv-spares"]
        assert time.monotonic() < deadline, f"fewer than {count} spares: {listing}; threads {refilling}"
        time.sleep(0.02)


def test_concurrent_takes_each_get_their_own_working_environment(tmp_path: Path) -> None:
    spares = VenvSpares(tmp_path / "spares", wanted=4)
    _until_ready(spares.folder, 4)
    dests = [tmp_path / "jobs" / str(i) / "venv" for i in range(4)]
    with ThreadPoolExecutor(4) as pool:
        taken = list(pool.map(spares.take, dests))
    assert taken == [True] * 4
    for dest in dests:
        assert venvs.python_of(dest).exists()
    # Taking starts a refill: the folder holds `wanted` spares again.
    _until_ready(spares.folder, 4)


def test_spares_left_by_an_earlier_server_are_taken(tmp_path: Path) -> None:
    folder = tmp_path / "spares"
    folder.mkdir()
    venvs.create(folder / "ready-earlier")
    spares = VenvSpares(folder, wanted=1)  # finds one ready: builds none
    dest = tmp_path / "job" / "venv"
    assert spares.take(dest)
    assert venvs.python_of(dest).exists()
    assert not (folder / "ready-earlier").exists()


def test_no_spare_ready_means_false_not_a_shared_environment(tmp_path: Path) -> None:
    folder = tmp_path / "spares"
    spares = VenvSpares(folder, wanted=0)  # builds none
    threading.Event().wait(0.1)
    assert not spares.take(tmp_path / "job" / "venv")


def test_a_failed_build_is_retried_without_waiting_for_a_take(tmp_path: Path) -> None:
    folder = tmp_path / "spares"
    folder.write_text("a file where the folder goes: every build fails")
    spares = VenvSpares(folder, wanted=2)
    threading.Event().wait(0.2)
    assert folder.is_file()  # nothing built over it
    folder.unlink()  # the cause goes; no take follows
    _until_ready(spares.folder, 2)
