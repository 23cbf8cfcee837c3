"""Ready-made job environments, so a launch renames one into place instead of building it.

Every process job gets its own virtual environment (so `pip install` in a job never
touches the host or another job). Building one costs several milliseconds on the launch
path; a background thread keeps a few spares built, and taking one is a single rename.
Environments are relocatable here: nothing in them names their own path until a job
installs into them.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from pathlib import Path

from customjobs.execution.backends.packages import venvs

log = logging.getLogger(__name__)

SPARES_WANTED = 4
RETRY_S = 1.0  # after a failed build
_READY = "ready-"


class VenvSpares:
    def __init__(self, folder: Path, wanted: int = SPARES_WANTED) -> None:
        self.folder = folder
        self.wanted = wanted
        self._need = threading.Event()
        self._need.set()
        # The spares this server built, newest last: a take needs no listing of the folder.
        self._built: deque[Path] = deque()
        threading.Thread(target=self._refill_forever, name="venv-spares", daemon=True).start()

    def take(self, dest: Path) -> bool:
        """Move a spare to `dest`; False when none is ready (the caller builds one itself)."""
        self._need.set()
        # The folder is listed only once the spares this server built are gone.
        for spare in itertools.chain(self._drain_built(), self._left_in_folder()):
            taken = self._move(spare, dest)
            if taken is not None:
                return taken
        return False

    def _drain_built(self) -> Iterator[Path]:
        while True:
            try:
                yield self._built.popleft()  # atomic: launches take spares side by side
            except IndexError:
                return

    def _left_in_folder(self) -> Iterator[Path]:
        """Spares left by an earlier server, or built by another one on this folder."""
        try:
            yield from sorted(p for p in self.folder.iterdir() if p.name.startswith(_READY))
        except FileNotFoundError:
            return

    @staticmethod
    def _move(spare: Path, dest: Path) -> bool | None:
        """True: moved; False: renames cannot reach dest; None: that spare is gone."""
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.rename(spare, dest)
            return True
        except FileNotFoundError:
            return None  # another launch (or server) took it first
        except OSError:
            return False  # e.g. another file system: renames cannot reach dest

    def _refill_forever(self) -> None:
        while True:
            self._need.wait()
            self._need.clear()
            try:
                self._refill()
            except Exception:  # this thread must outlive any one failed build
                log.exception("could not build spare job environments in %s", self.folder)
                # Tried again later, not only at the next take: launches build their own meanwhile.
                time.sleep(RETRY_S)
                self._need.set()

    def _refill(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        while sum(1 for p in self.folder.iterdir() if p.name.startswith(_READY)) < self.wanted:
            building = self.folder / f"building-{uuid.uuid4().hex}"
            try:
                venvs.create(building)
            except (OSError, RuntimeError):
                shutil.rmtree(building, ignore_errors=True)
                raise
            ready = self.folder / f"{_READY}{uuid.uuid4().hex}"
            os.rename(building, ready)
            self._built.append(ready)
