"""Static bearer tokens from a YAML file: each token, or its SHA-256, names one principal.

    # tokens.yaml: token -> principal
    "3f9c2d8e-alice-7b1a55c0d2": alice@example.com
    "sha256:5e884898da28047151d0e56f8dc62927...": ci-bot   # hex SHA-256 of the token

A `sha256:` key keeps the secret out of the file. Every token is looked up by its
digest, so a lookup takes the same time whatever part of a token a caller guesses.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import yaml

from customjobs.security.settings import SecurityConfigError

HASH_PREFIX = "sha256:"
# Shorter tokens are guessable; `openssl rand -hex 16` gives 32 characters.
MIN_TOKEN_CHARS = 16
_HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class TokenFileError(SecurityConfigError):
    """The tokens file cannot be used; the message says which entry and why."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaticTokens:
    def __init__(self, principals_by_digest: dict[str, str]) -> None:
        self._by_digest = dict(principals_by_digest)

    def __len__(self) -> int:
        return len(self._by_digest)

    @classmethod
    def load(cls, path: Path) -> StaticTokens:
        try:
            data = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise TokenFileError(f"cannot read tokens file {path}: {exc}") from exc
        if not isinstance(data, dict) or not data:
            raise TokenFileError(f"{path}: expected a mapping of token -> principal")
        found: dict[str, str] = {}
        for number, (key, principal) in enumerate(data.items(), 1):
            if not isinstance(key, str) or not isinstance(principal, str) or not principal.strip():
                raise TokenFileError(f"{path}: entry {number}: token and principal must be strings")
            found[_digest_of_entry(key, path, number)] = principal.strip()
        return cls(found)

    def lookup(self, token: str) -> str | None:
        """The principal of a token, or None when the file does not list it."""
        return self._by_digest.get(digest(token))


def _digest_of_entry(key: str, path: Path, number: int) -> str:
    if key.startswith(HASH_PREFIX):
        value = key.removeprefix(HASH_PREFIX).lower()
        if not _HEX_DIGEST.match(value):
            raise TokenFileError(f"{path}: entry {number}: '{HASH_PREFIX}' needs 64 hex digits")
        return value
    if len(key) < MIN_TOKEN_CHARS or any(c.isspace() for c in key):
        raise TokenFileError(
            f"{path}: entry {number}: a token needs at least {MIN_TOKEN_CHARS} characters and no spaces"
        )
    return digest(key)
