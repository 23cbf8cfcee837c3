"""Bucket and object names, and the file each one maps to.

`gs://bucket/path` is `<root>/bucket/path`. A name is checked before it becomes a
path, so no request reaches outside its bucket: `..` and `.` segments, absolute
names, empty segments (`a//b`, which a file system would merge with `a/b`) and NUL,
CR or LF are refused. A symbolic link inside a bucket that points outside it is
refused too, since the API must not serve what the file system merely links to.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from customjobs.storage.errors import InvalidRequest

GS_SCHEME = "gs://"
# Where Vertex mounts every bucket inside a job (Cloud Storage FUSE).
GCS_MOUNT = "/gcs/"
MAX_OBJECT_NAME_BYTES = 1024
# Most Linux file systems refuse longer file names; GCS allows them in one segment.
MAX_SEGMENT_BYTES = 255

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9_.-]*[a-z0-9]$")
_FORBIDDEN = ("\0", "\r", "\n")
# `/gcs/` where a path starts: at the start of a word, never inside another path.
_MOUNT_REFERENCE = re.compile(r"(?<![\w./~-])/gcs/")


def check_bucket(name: str) -> str:
    """Cloud Storage's bucket naming rules (which also keep a bucket one plain folder)."""
    parts = name.split(".")
    if (
        not 3 <= len(name) <= 222
        or not _BUCKET.match(name)
        or ".." in name
        or any(len(p) > 63 for p in parts)
        or name.startswith("goog")
    ):
        raise InvalidRequest(f"Invalid bucket name: '{name}'")
    return name


def check_object(name: str) -> str:
    """An object name that maps to exactly one path inside its bucket.

    A trailing '/' is allowed: such a name (`logs/`) is a folder placeholder.
    """
    if not name:
        raise InvalidRequest("Object name is required.")
    if len(name.encode()) > MAX_OBJECT_NAME_BYTES:
        raise InvalidRequest(f"The object name is longer than {MAX_OBJECT_NAME_BYTES} bytes.")
    if any(c in name for c in _FORBIDDEN):
        raise InvalidRequest(f"Invalid object name {name!r}: NUL, CR and LF are not allowed.")
    if name.startswith("/"):
        raise InvalidRequest(
            f"Invalid object name {name!r}: local buckets do not hold names starting with '/'."
        )
    segments = name.removesuffix("/").split("/")
    for segment in segments:
        if segment in ("", ".", ".."):
            raise InvalidRequest(
                f"Invalid object name {name!r}: local buckets do not hold empty, '.' or '..' segments."
            )
        if len(segment.encode()) > MAX_SEGMENT_BYTES:
            raise InvalidRequest(
                f"Invalid object name {name!r}: a segment is longer than {MAX_SEGMENT_BYTES} bytes."
            )
    return name


def bucket_path(root: Path, bucket: str) -> Path:
    return root / check_bucket(bucket)


def object_path(root: Path, bucket: str, name: str) -> Path:
    """The file of an object; raises InvalidRequest for a name that would leave the bucket."""
    base = bucket_path(root, bucket)
    path = base / check_object(name)
    real_base = os.path.realpath(base)
    real = os.path.realpath(path)
    if real != real_base and not real.startswith(real_base + os.sep):
        raise InvalidRequest(f"Invalid object name {name!r}: it leads outside the bucket.")
    return path


def parse_gs_uri(uri: str) -> tuple[str, str]:
    """gs://bucket/a/b -> ("bucket", "a/b"); the object part may be empty."""
    if not uri.startswith(GS_SCHEME):
        raise InvalidRequest(f"Not a gs:// URI: {uri}")
    bucket, _, name = uri.removeprefix(GS_SCHEME).partition("/")
    check_bucket(bucket)
    return bucket, name


def gs_uri_path(root: Path, uri: str) -> Path:
    bucket, name = parse_gs_uri(uri)
    return object_path(root, bucket, name) if name else bucket_path(root, bucket)


def rewrite_gcs_mount(text: str, root: Path) -> str:
    """`/gcs/bucket/x` -> `<root>/bucket/x` wherever such a path starts in `text`.

    Host processes cannot see a /gcs mount, so process replicas get this rewrite of their
    command and args (also inside a `sh -c` string, as from_local_script writes it).
    """
    target = str(root).rstrip("/") + "/"
    return _MOUNT_REFERENCE.sub(lambda _: target, text)
