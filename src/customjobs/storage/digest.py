"""MD5 and CRC32C of an object, in the base64 form Cloud Storage reports them.

Clients check them: google-cloud-storage compares the crc32c of an upload's response
and the X-Goog-Hash of a download with what it computed, and fails on a mismatch.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import google_crc32c

READ_CHUNK_BYTES = 1024 * 1024


class Digest:
    def __init__(self) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._crc = 0
        self.size = 0

    def update(self, data: bytes) -> None:
        self._md5.update(data)
        self._crc = google_crc32c.extend(self._crc, data)
        self.size += len(data)

    @property
    def md5(self) -> str:
        return base64.b64encode(self._md5.digest()).decode()

    @property
    def crc32c(self) -> str:
        return base64.b64encode(self._crc.to_bytes(4, "big")).decode()


def digest_file(path: Path) -> Digest:
    digest = Digest()
    with open(path, "rb") as f:
        while chunk := f.read(READ_CHUNK_BYTES):
            digest.update(chunk)
    return digest
