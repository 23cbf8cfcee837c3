"""Resumable uploads: a session id, chunks appended at their offsets, a commit at the end.

A session is two files under `<root>/.uploads/`: its JSON (bucket, name, content type,
metadata, preconditions) and the bytes received so far. Both survive a server restart,
as a resumable upload is meant to. A chunk that starts before the end of what was
received overwrites from there (a client resending after a lost reply); one that starts
after it is not written, and the reply's committed range tells the client where to resume.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from customjobs.storage.errors import InvalidRequest, UploadNotFound
from customjobs.storage.metadata import ObjectInfo
from customjobs.storage.names import check_bucket, check_object
from customjobs.storage.objects import Expected, LocalBuckets

UPLOADS_DIR = ".uploads"
_ID_BYTES = 16


@dataclass(frozen=True)
class Session:
    bucket: str
    name: str
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    if_generation_match: int | None = None
    md5: str | None = None
    crc32c: str | None = None


@dataclass(frozen=True)
class ChunkRange:
    """A Content-Range: `first`/`last` None for `bytes */total`; `total` None for `.../*`."""

    first: int | None
    last: int | None
    total: int | None


class ResumableUploads:
    def __init__(self, buckets: LocalBuckets) -> None:
        self.buckets = buckets
        self.dir = buckets.root / UPLOADS_DIR

    def start(self, session: Session) -> str:
        check_bucket(session.bucket)
        check_object(session.name)
        self.dir.mkdir(parents=True, exist_ok=True)
        upload_id = secrets.token_urlsafe(_ID_BYTES)
        self._data(upload_id).touch()
        self._meta(upload_id).write_text(json.dumps(asdict(session)))
        return upload_id

    def received(self, upload_id: str) -> int:
        self._session(upload_id)
        return self._data(upload_id).stat().st_size

    def put(self, upload_id: str, chunks: Iterable[bytes], span: ChunkRange | None) -> int | ObjectInfo:
        """Store one request's bytes; the object once all `total` bytes are in, else the count so far."""
        session = self._session(upload_id)
        data = self._data(upload_id)
        size = data.stat().st_size
        if span is None:  # no Content-Range: this request carries the whole object
            span = ChunkRange(0, None, None)
            whole = True
        else:
            whole = False
        if span.first is not None and span.first <= size:
            with open(data, "r+b") as f:
                f.seek(span.first)
                f.truncate()
                for chunk in chunks:
                    f.write(chunk)
                size = f.tell()
            if span.last is not None and size != span.last + 1:
                raise InvalidRequest(
                    f"The chunk declared bytes {span.first}-{span.last} "
                    f"but carried {size - span.first} bytes."
                )
        if whole:
            span = ChunkRange(span.first, span.last, size)
        if span.total is not None and size > span.total:
            raise InvalidRequest(f"Received {size} bytes of an upload declared as {span.total} bytes.")
        if span.total is not None and size == span.total:
            return self._finish(upload_id, session)
        return size

    def cancel(self, upload_id: str) -> None:
        self._session(upload_id)
        self._data(upload_id).unlink(missing_ok=True)
        self._meta(upload_id).unlink(missing_ok=True)

    def _finish(self, upload_id: str, session: Session) -> ObjectInfo:
        temp = self.buckets.temp_file()
        os.replace(self._data(upload_id), temp)
        self._meta(upload_id).unlink(missing_ok=True)
        expected = Expected(session.if_generation_match, session.md5, session.crc32c)
        return self.buckets.commit(
            session.bucket, session.name, temp, session.content_type, session.metadata, expected
        )

    def _session(self, upload_id: str) -> Session:
        if not upload_id or not all(c.isalnum() or c in "-_" for c in upload_id):
            raise UploadNotFound(upload_id)
        try:
            return Session(**json.loads(self._meta(upload_id).read_text()))
        except FileNotFoundError:
            raise UploadNotFound(upload_id) from None

    def _meta(self, upload_id: str) -> Path:
        return self.dir / f"{upload_id}.json"

    def _data(self, upload_id: str) -> Path:
        return self.dir / f"{upload_id}.part"


def parse_content_range(header: str | None) -> ChunkRange | None:
    """`bytes 0-99/*`, `bytes 100-199/200`, `bytes */200` or `bytes */*`."""
    if not header:
        return None
    unit, _, spec = header.strip().partition(" ")
    span, _, total = spec.partition("/")
    try:
        if unit != "bytes" or not total:
            raise ValueError
        total_n = None if total == "*" else int(total)
        if span == "*":
            return ChunkRange(None, None, total_n)
        first, _, last = span.partition("-")
        first_n, last_n = int(first), int(last)
        if first_n < 0 or last_n < first_n:
            raise ValueError
        return ChunkRange(first_n, last_n, total_n)
    except ValueError:
        raise InvalidRequest(f"Invalid Content-Range: {header}") from None
