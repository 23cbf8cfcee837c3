"""The KMS interface: wrap and unwrap small secrets with a named key, and say how a key stands.

Cloud KMS's encrypt/decrypt take at most 64 KiB, so data is never sent to it: envelope.py
seals data with a data key of its own and asks the KMS only to wrap that key. A plug-in
for a real KMS implements these three methods and raises KeyUnavailable the same way.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Protocol

_SEGMENT = r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,62}"
_KEY_NAME = re.compile(
    rf"^projects/({_SEGMENT})/locations/({_SEGMENT})/keyRings/({_SEGMENT})/cryptoKeys/({_SEGMENT})$"
)


class KeyState(Enum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class KeyUnavailable(Exception):
    """A key that does not exist or may not be used now; `reason` says which."""

    def __init__(self, key_name: str, reason: str) -> None:
        super().__init__(f"{key_name}: {reason}")
        self.key_name = key_name
        self.reason = reason


class KeyNotFound(KeyUnavailable):
    def __init__(self, key_name: str) -> None:
        super().__init__(key_name, "no such key")


class KeyDisabled(KeyUnavailable):
    def __init__(self, key_name: str) -> None:
        super().__init__(key_name, "the key is disabled")


class Kms(Protocol):
    def encrypt(self, key_name: str, plaintext: bytes, aad: bytes) -> bytes:
        """Ciphertext of `plaintext` under the key; KeyUnavailable unless it exists and is enabled."""
        ...

    def decrypt(self, key_name: str, ciphertext: bytes, aad: bytes) -> bytes:
        """The plaintext back; KeyUnavailable as encrypt, ValueError for tampered data."""
        ...

    def state(self, key_name: str) -> KeyState | None:
        """How the key stands; None when there is no such key."""
        ...


def check_key_name(name: str) -> str:
    """`projects/P/locations/L/keyRings/R/cryptoKeys/K` with plain segments, or ValueError."""
    if not _KEY_NAME.match(name):
        raise ValueError(
            f"invalid key name {name!r}: expected projects/P/locations/L/keyRings/R/cryptoKeys/K "
            "(letters, digits, '_', '-' and '.', at most 63 per segment)"
        )
    return name


def key_project(name: str) -> str:
    match = _KEY_NAME.match(name)
    if match is None:
        raise ValueError(f"invalid key name {name!r}")
    return match[1]
