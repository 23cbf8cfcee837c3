"""An encrypted job's output files: sealed in their bucket when it ends, opened on download.

"The files it writes under a bucket the service manages" are the files under the job's
`baseOutputDirectory` (where Vertex points AIP_MODEL_DIR, AIP_CHECKPOINT_DIR and
AIP_TENSORBOARD_LOG_DIR) when that is a gs:// URI of a local bucket. A job writes them
in plaintext (through /gcs/ paths or the Storage API); when it ends each one is replaced
by its sealed form, bound to its `gs://bucket/name`, and its sidecar keeps the plaintext
size and hashes, so listings and the clients' checksum checks see the object as written.
The Storage API opens sealed objects on download; the file system shows only ciphertext.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from customjobs.kms import envelope
from customjobs.kms.base import KeyUnavailable, Kms
from customjobs.storage.errors import StorageError
from customjobs.storage.metadata import Sidecars
from customjobs.storage.names import GS_SCHEME, bucket_path, gs_uri_path, parse_gs_uri
from customjobs.storage.objects import LocalBuckets

log = logging.getLogger(__name__)


class KeyUnavailableError(StorageError):
    """Cloud Storage's envelope for an object whose key cannot be used now."""

    http_status = 400
    reason = "failedPrecondition"

    def __init__(self, key_name: str, bucket: str, name: str) -> None:
        super().__init__(
            f"FAILED_PRECONDITION: The Cloud KMS key {key_name} is disabled or does not exist, so the "
            f"object {bucket}/{name} cannot be decrypted. Enable the key "
            f"(customjobs keys enable {key_name}) to read it again."
        )


def object_context(bucket: str, name: str) -> bytes:
    return f"{GS_SCHEME}{bucket}/{name}".encode()


class SealedObjects:
    def __init__(self, buckets: LocalBuckets, kms: Kms) -> None:
        self.buckets = buckets
        self.kms = kms
        self._sidecars = Sidecars(buckets.root)

    def seal_output(self, uri: str, key_name: str) -> bool:
        """Seal every plaintext file under a gs:// output directory; False (logged) if the key is unusable."""
        if not uri.startswith(GS_SCHEME):
            return True
        try:
            bucket, _ = parse_gs_uri(uri)
            top = gs_uri_path(self.buckets.root, uri.rstrip("/"))
        except StorageError as exc:
            log.warning("output %s is not a local bucket path: %s", uri, exc.message)
            return True
        base = bucket_path(self.buckets.root, bucket)
        try:
            for path in _files_under(top):
                self._seal(bucket, path.relative_to(base).as_posix(), path, key_name)
        except KeyUnavailable as exc:
            log.warning("output %s stays unsealed for now: %s", uri, exc)
            return False
        return True

    def _seal(self, bucket: str, name: str, path: Path, key_name: str) -> None:
        if envelope.is_sealed_file(path):
            return
        try:
            info = self.buckets.stat(bucket, name)
        except StorageError:
            return  # a name the Storage API cannot serve (e.g. an odd segment): nothing to protect there
        envelope.seal_file_in_place(path, self.kms, key_name, object_context(bucket, name))
        self._sidecars.save(path, info)

    def open(self, bucket: str, name: str, path: Path) -> Iterator[bytes] | None:
        """The plaintext chunks of a sealed object, or None for a plaintext one.

        The key is unwrapped before this returns, so a disabled key is an error the
        caller can still send as a status, not a broken stream.
        """
        f = open(path, "rb")  # noqa: SIM115 (closed by the generator, or below)
        try:
            if not envelope.is_sealed(f.read(len(envelope.MAGIC))):
                f.close()
                return None
            f.seek(0)
            chunks = envelope.open_chunks(
                f, os.fstat(f.fileno()).st_size, self.kms, object_context(bucket, name)
            )
            first = next(chunks, b"")
        except KeyUnavailable as exc:
            f.close()
            raise KeyUnavailableError(exc.key_name, bucket, name) from exc
        except BaseException:
            f.close()
            raise
        return _then(first, chunks, f)


def _then(first: bytes, rest: Iterator[bytes], f: BinaryIO) -> Iterator[bytes]:
    try:
        yield first
        yield from rest
    finally:
        f.close()


def _files_under(top: Path) -> Iterator[Path]:
    """Regular files at or under `top`, never following a symbolic link out of it."""
    if top.is_symlink():
        return
    if top.is_file():
        yield top
        return
    for folder, _, files in os.walk(top, followlinks=False):
        for file in files:
            path = Path(folder, file)
            if not path.is_symlink() and path.is_file() and not envelope.is_temp_name(file):
                yield path
