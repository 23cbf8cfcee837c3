"""Buckets as folders and objects as files, with Cloud Storage's metadata kept beside them.

The files are the truth: a job that writes `<bucket folder>/model.pt` with plain file
I/O has made an object. What the file system cannot hold lives in sidecars
(metadata.py), rebuilt from the file whenever the file changed behind their back.
Uploads are written to `<root>/.tmp/` and renamed into place, so a reader never sees
half an object. Bucket names cannot start with '.', so these folders never clash with
a bucket.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from customjobs.storage.digest import Digest, digest_file
from customjobs.storage.errors import (
    BucketNotFound,
    Conflict,
    InvalidRequest,
    ObjectNotFound,
    PreconditionFailed,
)
from customjobs.storage.metadata import (
    DEFAULT_CONTENT_TYPE,
    META_DIR,
    BucketInfo,
    ObjectInfo,
    Sidecars,
    describe_file,
)
from customjobs.storage.names import bucket_path, check_bucket, object_path

TMP_DIR = ".tmp"


@dataclass(frozen=True)
class Expected:
    """What an upload says about itself: preconditions and the hashes the client computed."""

    if_generation_match: int | None = None
    md5: str | None = None
    crc32c: str | None = None


class LocalBuckets:
    def __init__(self, root: Path) -> None:
        self.root = root
        # Serialises commits and deletes: a precondition and the rename it guards are one step.
        self._lock = threading.Lock()
        self._sidecars = Sidecars(root)

    # buckets ---------------------------------------------------------------------

    def create_bucket(self, name: str) -> BucketInfo:
        path = bucket_path(self.root, name)
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir()
        except FileExistsError:
            raise Conflict(
                "Your previous request to create the named bucket succeeded and you already own it."
            ) from None
        return self.get_bucket(name)

    def get_bucket(self, name: str) -> BucketInfo:
        path = bucket_path(self.root, name)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise BucketNotFound(name) from None
        if not stat.S_ISDIR(st.st_mode):
            raise BucketNotFound(name)
        return BucketInfo(name, st.st_mtime_ns // 1000)

    def list_buckets(self) -> list[BucketInfo]:
        if not self.root.is_dir():
            return []
        found = []
        for entry in sorted(os.scandir(self.root), key=lambda e: e.name):
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            with contextlib.suppress(InvalidRequest):
                check_bucket(entry.name)
                found.append(BucketInfo(entry.name, entry.stat().st_mtime_ns // 1000))
        return found

    def delete_bucket(self, name: str) -> None:
        self.get_bucket(name)
        path = bucket_path(self.root, name)
        if any(files for _, _, files in os.walk(path)):
            raise Conflict("The bucket you tried to delete is not empty.")
        shutil.rmtree(path)
        shutil.rmtree(self.root / META_DIR / name, ignore_errors=True)

    def bucket_dir(self, name: str) -> Path:
        """The folder of an existing bucket."""
        self.get_bucket(name)
        return bucket_path(self.root, name)

    # objects ---------------------------------------------------------------------

    def temp_file(self) -> Path:
        """A new empty file to spool an upload into, on the same file system as the buckets."""
        tmp = self.root / TMP_DIR
        tmp.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=tmp, prefix="upload-")
        os.close(fd)
        return Path(name)

    def commit(
        self,
        bucket: str,
        name: str,
        temp: Path,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        expected: Expected | None = None,
    ) -> ObjectInfo:
        """Make the spooled file `temp` the object `bucket/name` (creating the bucket if needed)."""
        expected = expected or Expected()
        try:
            path = object_path(self.root, bucket, name)
            digest = digest_file(temp)
            _check_hashes(digest, expected)
            if name.endswith("/") and digest.size:
                raise InvalidRequest(
                    f"The object {name} ends with '/': it must be empty (a folder placeholder)."
                )
            with self._lock:
                current = self._stat_or_none(bucket, name)
                _check_precondition(current, expected.if_generation_match)
                bucket_path(self.root, bucket).mkdir(parents=True, exist_ok=True)
                now_us = time.time_ns() // 1000
                generation = max(now_us, current.generation + 1) if current else now_us
                if name.endswith("/"):
                    _make_dirs(path, name)
                    return self.stat(bucket, name)
                _make_dirs(path.parent, name)
                if path.is_dir():
                    raise Conflict(
                        f"The object {bucket}/{name} cannot be written: objects named {name}/... exist, "
                        "and a local bucket keeps objects as files."
                    )
                os.replace(temp, path)
                info = ObjectInfo(
                    bucket=bucket,
                    name=name,
                    size=digest.size,
                    md5=digest.md5,
                    crc32c=digest.crc32c,
                    generation=generation,
                    content_type=content_type or DEFAULT_CONTENT_TYPE,
                    created_us=now_us,
                    updated_us=now_us,
                    metadata=dict(metadata or {}),
                )
                self._sidecars.save(path, info)
                return info
        finally:
            temp.unlink(missing_ok=True)

    def put_bytes(self, bucket: str, name: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        temp = self.temp_file()
        temp.write_bytes(data)
        return self.commit(bucket, name, temp, content_type)

    def stat(self, bucket: str, name: str) -> ObjectInfo:
        self.get_bucket(bucket)
        info = self._stat_or_none(bucket, name)
        if info is None:
            raise ObjectNotFound(bucket, name)
        return info

    def file(self, bucket: str, name: str) -> Path | None:
        """The file to download for an object that exists; None for a folder placeholder."""
        self.stat(bucket, name)
        return None if name.endswith("/") else object_path(self.root, bucket, name)

    def delete(self, bucket: str, name: str, if_generation_match: int | None = None) -> None:
        with self._lock:
            current = self.stat(bucket, name)
            _check_precondition(current, if_generation_match)
            path = object_path(self.root, bucket, name)
            if name.endswith("/"):
                with contextlib.suppress(OSError):
                    path.rmdir()
            else:
                path.unlink(missing_ok=True)
                self._sidecars.path(path).unlink(missing_ok=True)
            _prune(path.parent, bucket_path(self.root, bucket))
            _prune(self._sidecars.path(path).parent, self.root / META_DIR / bucket)

    # internals -------------------------------------------------------------------

    def _stat_or_none(self, bucket: str, name: str) -> ObjectInfo | None:
        path = object_path(self.root, bucket, name)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        is_dir = stat.S_ISDIR(st.st_mode)
        if name.endswith("/"):
            # A folder is a placeholder object only while empty, as listings show it.
            if not is_dir or any(path.iterdir()):
                return None
            empty = Digest()
            at_us = st.st_mtime_ns // 1000
            return ObjectInfo(
                bucket, name, 0, empty.md5, empty.crc32c, at_us, DEFAULT_CONTENT_TYPE, at_us, at_us
            )
        if not stat.S_ISREG(st.st_mode):
            return None
        info = self._sidecars.load(bucket, name, path, st)
        if info is None:
            # Written through the file system (or changed since): describe the file as it is now.
            info = describe_file(bucket, name, path, st)
            with contextlib.suppress(OSError):
                self._sidecars.save(path, info)
        return info


def _check_hashes(digest: Digest, expected: Expected) -> None:
    if expected.md5 and expected.md5 != digest.md5:
        raise InvalidRequest(
            f"Provided MD5 hash {expected.md5} doesn't match calculated MD5 hash {digest.md5}."
        )
    if expected.crc32c and expected.crc32c != digest.crc32c:
        raise InvalidRequest(
            f"Provided CRC32C {expected.crc32c} doesn't match calculated CRC32C {digest.crc32c}."
        )


def _check_precondition(current: ObjectInfo | None, if_generation_match: int | None) -> None:
    if if_generation_match is None:
        return
    generation = current.generation if current else 0
    if generation != if_generation_match:
        raise PreconditionFailed()


def _make_dirs(path: Path, name: str) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise Conflict(
            f"The object {name} cannot be written: an object named after one of its folders exists, "
            "and a local bucket keeps objects as files."
        ) from None


def _prune(folder: Path, stop: Path) -> None:
    """Remove folders left empty by a delete, as a prefix disappears with its last object."""
    while folder != stop and stop in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
