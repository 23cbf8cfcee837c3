"""Which project owns a bucket, for the Storage API's permission checks.

A bucket's owner is recorded when it is created through the API (`POST /storage/v1/b?project=P`,
as the Google clients send it), or claimed by the first job of a project that names it as
its output directory. One small file per bucket under `<root>/.owners/` (bucket names cannot
start with '.'), created exclusively, so two claims never both win. A bucket with no
owner (made on disk, or before authentication was turned on) is open to admins of every
project only: security/storage_access.py calls it project "_", as Cloud Storage does.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from customjobs.storage.names import check_bucket

OWNERS_DIR = ".owners"
UNOWNED = "_"


class BucketOwners:
    def __init__(self, buckets_root: Path) -> None:
        self.root = buckets_root
        self.directory = buckets_root / OWNERS_DIR

    def exists(self, bucket: str) -> bool:
        return (self.root / check_bucket(bucket)).is_dir()

    def owner(self, bucket: str) -> str | None:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            return (self.directory / check_bucket(bucket)).read_text().strip() or None
        return None

    def claim(self, bucket: str, project: str) -> str:
        """Record `project` as the owner unless the bucket has one; returns the owner."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / check_bucket(bucket)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return self.owner(bucket) or UNOWNED
        with os.fdopen(fd, "w") as f:
            f.write(project)
        return project

    def release(self, bucket: str) -> None:
        (self.directory / check_bucket(bucket)).unlink(missing_ok=True)
