"""Ready-made job environments, so a launch renames one into place instead of building it.

Every process job gets its own virtual environment (so `pip install` in a job never
touches the host or another job). Building one costs several milliseconds on the launch
path; a background thread keeps a few spares built, and taking one is a single rename.
Environments are relocatable here: nothing in them names their own path until a job
installs into them.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import uuid
from pathlib import Path

from customjobs.execution.backends.packages import venvs

log = logging.getLogger(__name__)

SPARES_WANTED = 4
_READY = "ready-"


class VenvSpares:
    def __init__(self, folder: Path, wanted: int = SPARES_WANTED) -> None:
        self.folder = folder
        self.wanted = wanted
        self._need = threading.Event()
        self._need.set()
        threading.Thread(target=self._refill_forever, name="venv-spares", daemon=True).start()

    def take(self, dest: Path) -> bool:
        """Move a spare to `dest`; False when none is ready (the caller builds one itself)."""
        self._need.set()
        try:
            ready = sorted(p for p in self.folder.iterdir() if p.name.startswith(_READY))
        except FileNotFoundError:
            return False
        for spare in ready:
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.rename(spare, dest)
                return True
            except FileNotFoundError:
                continue  # another launch (or server) took it first
            except OSError:
                return False  # e.g. another file system: renames cannot reach dest
        return False

    def _refill_forever(self) -> None:
        while True:
            self._need.wait()
            self._need.clear()
            try:
                self._refill()
            except OSError:
                log.exception("could not build spare job environments in %s", self.folder)

    def _refill(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        while sum(1 for p in self.folder.iterdir() if p.name.startswith(_READY)) < self.wanted:
            building = self.folder / f"building-{uuid.uuid4().hex}"
            try:
                venvs.create(building)
            except (OSError, RuntimeError):
                shutil.rmtree(building, ignore_errors=True)
                raise
            os.rename(building, self.folder / f"{_READY}{uuid.uuid4().hex}")
