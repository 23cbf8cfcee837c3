"""Cloud Storage JSON API shapes: object and bucket resources, errors, page tokens, and
the multipart/related body of a multipart upload.

Everything camelCase about storage lives here, as Vertex's shapes live in the rest of
wire/: the storage package deals in ObjectInfo and plain names.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from customjobs.storage.errors import InvalidRequest, StorageError
from customjobs.storage.metadata import BucketInfo, ObjectInfo

# What real buckets report; clients only display them.
PROJECT_NUMBER = "0"
LOCATION = "US"
STORAGE_CLASS = "STANDARD"
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?')


def rfc3339(us: int) -> str:
    at = datetime.fromtimestamp(us / 1e6, tz=UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def object_resource(info: ObjectInfo, base_url: str) -> dict[str, Any]:
    """An objects resource; `base_url` is the server as the client reached it (with '/')."""
    quoted = quote(info.name, safe="")
    resource: dict[str, Any] = {
        "kind": "storage#object",
        "id": f"{info.bucket}/{info.name}/{info.generation}",
        "selfLink": f"{base_url}storage/v1/b/{info.bucket}/o/{quoted}",
        "mediaLink": f"{base_url}download/storage/v1/b/{info.bucket}/o/{quoted}"
        f"?generation={info.generation}&alt=media",
        "name": info.name,
        "bucket": info.bucket,
        "generation": str(info.generation),
        "metageneration": "1",
        "contentType": info.content_type,
        "storageClass": STORAGE_CLASS,
        "size": str(info.size),
        "md5Hash": info.md5,
        "crc32c": info.crc32c,
        "etag": etag(info),
        "timeCreated": rfc3339(info.created_us),
        "updated": rfc3339(info.updated_us),
        "timeStorageClassUpdated": rfc3339(info.created_us),
    }
    if info.metadata:
        resource["metadata"] = dict(info.metadata)
    return resource


def etag(info: ObjectInfo) -> str:
    return base64.b64encode(f"{info.generation}/1".encode()).decode()


def hash_header(info: ObjectInfo) -> str:
    """X-Goog-Hash, which google-cloud-storage checks a download against."""
    return f"crc32c={info.crc32c},md5={info.md5}"


def bucket_resource(info: BucketInfo, base_url: str) -> dict[str, Any]:
    return {
        "kind": "storage#bucket",
        "id": info.name,
        "selfLink": f"{base_url}storage/v1/b/{info.name}",
        "projectNumber": PROJECT_NUMBER,
        "name": info.name,
        "timeCreated": rfc3339(info.created_us),
        "updated": rfc3339(info.created_us),
        "metageneration": "1",
        "location": LOCATION,
        "locationType": "multi-region",
        "storageClass": STORAGE_CLASS,
        "etag": "CAE=",
    }


def error_body(error: StorageError) -> tuple[int, dict[str, Any]]:
    """Cloud Storage's envelope: code, message, and `errors` with a reason each."""
    detail = {"message": error.message, "domain": "global", "reason": error.reason}
    return error.http_status, {
        "error": {"code": error.http_status, "message": error.message, "errors": [detail]}
    }


def encode_page_token(after: str) -> str:
    return base64.urlsafe_b64encode(after.encode()).decode()


def decode_page_token(token: str) -> str:
    if not token:
        return ""
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidRequest(f"Invalid pageToken: {token}") from None


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, Any], str | None, bytes]:
    """(object metadata, the media part's content type, the media) of a multipart/related body.

    google-cloud-storage separates parts with CRLF and gcsfs with LF: the line ending after
    the first boundary says which, so a media part ending in CR keeps it.
    """
    match = _BOUNDARY.search(content_type)
    if not content_type.startswith("multipart/related") or not match:
        raise InvalidRequest("A multipart upload needs Content-Type: multipart/related; boundary=...")
    delimiter = b"--" + match.group(1).encode()
    start = body.find(delimiter)
    if start < 0:
        raise InvalidRequest("The multipart body has no boundary.")
    after = start + len(delimiter)
    newline = b"\r\n" if body[after : after + 2] == b"\r\n" else b"\n"
    parts = body[after + len(newline) :].split(newline + delimiter)
    if len(parts) < 3:
        raise InvalidRequest("A multipart upload has two parts: metadata, then media.")
    _, meta_body = _split_part(parts[0], newline)
    media_headers, media = _split_part(parts[1], newline)
    try:
        metadata = json.loads(meta_body or b"{}")
    except (ValueError, RecursionError):
        raise InvalidRequest("The metadata part of the multipart upload is not JSON.") from None
    if not isinstance(metadata, dict):
        raise InvalidRequest("The metadata part of the multipart upload is not a JSON object.")
    return metadata, media_headers.get("content-type"), media


def _split_part(part: bytes, newline: bytes) -> tuple[dict[str, str], bytes]:
    head, sep, content = part.partition(newline + newline)
    if not sep:
        if part.startswith(newline):  # a part with no headers at all
            return {}, part[len(newline) :]
        raise InvalidRequest("A part of the multipart body has no blank line after its headers.")
    headers = {}
    for line in head.decode("latin-1").splitlines():
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return headers, content
