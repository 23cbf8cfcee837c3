"""What Cloud Storage says about an object, and the sidecar files that keep it.

A file system keeps an object's bytes, size and mtime, but not its content type,
generation, custom metadata or hashes. Those go to a JSON sidecar under `<root>/.meta/`
(bucket names cannot start with '.'), stamped with the file's size and mtime_ns: a
sidecar whose stamp no longer matches its file (a job rewrote it through the file system)
is ignored, and the object is described from the file as it is now.
"""

from __future__ import annotations

import json
import mimetypes
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from customjobs.storage.digest import digest_file

META_DIR = ".meta"
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class BucketInfo:
    name: str
    created_us: int


@dataclass(frozen=True)
class ObjectInfo:
    bucket: str
    name: str
    size: int
    md5: str
    crc32c: str
    generation: int
    content_type: str
    created_us: int
    updated_us: int
    metadata: dict[str, str] = field(default_factory=dict)


def describe_file(bucket: str, name: str, path: Path, st: os.stat_result) -> ObjectInfo:
    """An object known only as a file: hashes read from it, generation from its mtime."""
    digest = digest_file(path)
    at_us = st.st_mtime_ns // 1000
    return ObjectInfo(
        bucket=bucket,
        name=name,
        size=digest.size,
        md5=digest.md5,
        crc32c=digest.crc32c,
        generation=at_us,
        content_type=mimetypes.guess_type(name)[0] or DEFAULT_CONTENT_TYPE,
        created_us=at_us,
        updated_us=at_us,
    )


class Sidecars:
    def __init__(self, buckets_root: Path) -> None:
        self.buckets_root = buckets_root
        self.root = buckets_root / META_DIR

    def path(self, object_file: Path) -> Path:
        return self.root / f"{object_file.relative_to(self.buckets_root)}.json"

    def load(self, bucket: str, name: str, object_file: Path, st: os.stat_result) -> ObjectInfo | None:
        """The stored description, if it still describes the file as it is."""
        try:
            data: Any = json.loads(self.path(object_file).read_text())
        except (OSError, ValueError):
            return None
        stamp = (st.st_size, st.st_mtime_ns)
        if not isinstance(data, dict) or (data.get("size"), data.get("mtime_ns")) != stamp:
            return None
        return ObjectInfo(
            bucket=bucket,
            name=name,
            # A sealed object's file is longer than the object it holds (kms/outputs.py).
            size=int(data.get("object_size", st.st_size)),
            md5=data["md5"],
            crc32c=data["crc32c"],
            generation=data["generation"],
            content_type=data["content_type"],
            created_us=data["created_us"],
            updated_us=data["updated_us"],
            metadata=data.get("metadata", {}),
        )

    def save(self, object_file: Path, info: ObjectInfo) -> None:
        st = object_file.stat()
        record = {
            "size": st.st_size,
            "object_size": info.size,
            "mtime_ns": st.st_mtime_ns,
            "md5": info.md5,
            "crc32c": info.crc32c,
            "generation": info.generation,
            "content_type": info.content_type,
            "created_us": info.created_us,
            "updated_us": info.updated_us,
            "metadata": info.metadata,
        }
        sidecar = self.path(object_file)
        sidecar.parent.mkdir(parents=True, exist_ok=True)
        temp = sidecar.with_name(f".{sidecar.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        temp.write_text(json.dumps(record))
        os.replace(temp, sidecar)
