"""Opaque page tokens bound to the list they came from.

A token carries the last row's sort key (keyset pagination: stable and cheap at any
depth) and a digest of the parent and filter, so a token reused with another filter is
refused instead of silently skipping or repeating jobs.
"""

from __future__ import annotations

import base64
import hashlib
import json

from customjobs.errors import InvalidArgument
from customjobs.store.base import Cursor


def binding(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def encode(cursor: Cursor, bound_to: str) -> str:
    raw = json.dumps({"t": cursor.create_us, "i": cursor.id, "b": bound_to}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token: str, bound_to: str) -> Cursor:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        cursor = Cursor(create_us=int(data["t"]), id=int(data["i"]))
        matches = data["b"] == bound_to
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise InvalidArgument(f'Invalid page token "{token}".') from exc
    if not matches:
        raise InvalidArgument(
            "The page token does not belong to this list: it was issued for another parent or filter."
        )
    return cursor


def page_size(requested: int, default: int, maximum: int) -> int:
    """AIP-158: 0 means the default, larger than the maximum is clamped, negative is an error."""
    if requested < 0:
        raise InvalidArgument("page_size must not be negative.")
    if requested == 0:
        return default
    return min(requested, maximum)
