"""An encrypted job's replica logs: plaintext while it runs, sealed once it ends.

Replicas append to their log files themselves, so the files stay plaintext while the job
runs (the README says so). When it ends, before its final state is stored, every log of
every attempt is replaced by its sealed form, each bound to its own job, attempt and
replica. Reading goes through `SealedLogSource`, which opens sealed files and passes
plaintext ones (a running job's) through; whoever builds it has already checked that the
job's key is usable, so a disabled key stops plaintext and sealed logs alike.

A log that could not be sealed at the end (its key was disabled then) is sealed the next
time it is read with the key enabled again.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from customjobs.execution.logs.files import LogLayout
from customjobs.kms import envelope
from customjobs.kms.base import KeyUnavailable, Kms

log = logging.getLogger(__name__)


def log_context(path: Path) -> bytes:
    """`customjobs-log:JOB/attempt-N/workerpoolP-R.log`: a sealed log opens only where it was sealed."""
    return f"customjobs-log:{path.parent.parent.name}/{path.parent.name}/{path.name}".encode()


class SealedLogSource:
    """A ByteSource for one encrypted job's logs (execution/logs/files.py)."""

    def __init__(self, kms: Kms) -> None:
        self.kms = kms

    def read_from(self, path: Path, offset: int) -> bytes:
        # One open file for the check and the read: the file may be sealed in between.
        with open(path, "rb") as f:
            if not envelope.is_sealed(f.read(len(envelope.MAGIC))):
                f.seek(offset)
                return f.read()
            f.seek(0)
            size = os.fstat(f.fileno()).st_size
            return b"".join(envelope.open_chunks(f, size, self.kms, log_context(path), offset))


class LogSealer:
    def __init__(self, layout: LogLayout, kms: Kms) -> None:
        self.layout = layout
        self.kms = kms

    def seal_job(self, job_id: int, key_name: str) -> bool:
        """Seal every plaintext log of the job; False (logged) when the key cannot be used now."""
        try:
            for _, path in self.layout.replica_logs(job_id):
                if not envelope.is_sealed_file(path):
                    envelope.seal_file_in_place(path, self.kms, key_name, log_context(path))
        except KeyUnavailable as exc:
            log.warning("job %s: logs stay unsealed for now: %s", job_id, exc)
            return False
        return True
