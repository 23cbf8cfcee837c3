"""The local key ring: key material in one JSON file, each key sealed under a master key.

    DATA_DIR/kms/master.key    32 random bytes, mode 0600, made on first use
    DATA_DIR/kms/keyring.json  {"keys": {NAME: {"state", "createTime", "material"}}}

`material` is AES-256-GCM of the key under the master key, with the key's name as
associated data, so a key copied under another name does not open. Whoever can read
master.key can read every key: it is the one file to keep off backups that leave the
machine. Writers (`customjobs keys ...`) take a lock and replace the file whole; a
running server re-reads it when it changes, so disabling a key takes effect at once.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import fcntl
import json
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from customjobs.kms.base import KeyDisabled, KeyNotFound, KeyState, check_key_name

# The key ring's folder in the data dir, for the server and `customjobs keys` alike.
KEYRING_DIR_NAME = "kms"
MASTER_KEY_FILE = "master.key"
KEYRING_FILE = "keyring.json"
LOCK_FILE = "keyring.lock"
KEY_BYTES = 32
NONCE_BYTES = 12


@dataclass(frozen=True)
class KeyInfo:
    name: str
    state: KeyState
    create_time: str


class LocalKeyRing:
    """The Kms interface over files in `directory`; safe to share between threads."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._cache: tuple[tuple[int, int, int], dict[str, Any]] | None = None

    # Kms ---------------------------------------------------------------------------

    def encrypt(self, key_name: str, plaintext: bytes, aad: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + AESGCM(self._usable(key_name)).encrypt(nonce, plaintext, aad)

    def decrypt(self, key_name: str, ciphertext: bytes, aad: bytes) -> bytes:
        key = self._usable(key_name)
        try:
            return AESGCM(key).decrypt(ciphertext[:NONCE_BYTES], ciphertext[NONCE_BYTES:], aad)
        except InvalidTag:
            raise ValueError("the ciphertext does not match this key and context") from None

    def state(self, key_name: str) -> KeyState | None:
        entry = self._keys().get(key_name)
        return None if entry is None else KeyState(entry["state"])

    # administration (`customjobs keys`) -----------------------------------------------

    def create(self, key_name: str) -> KeyInfo:
        check_key_name(key_name)
        with self._writing() as keys:
            if key_name in keys:
                raise ValueError(f"key {key_name} already exists")
            material = secrets.token_bytes(KEY_BYTES)
            nonce = secrets.token_bytes(NONCE_BYTES)
            sealed = nonce + AESGCM(self._master()).encrypt(nonce, material, key_name.encode())
            keys[key_name] = {
                "state": KeyState.ENABLED.value,
                "createTime": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "material": base64.b64encode(sealed).decode(),
            }
            return _info(key_name, keys[key_name])

    def set_state(self, key_name: str, state: KeyState) -> KeyInfo:
        with self._writing() as keys:
            if key_name not in keys:
                raise KeyNotFound(key_name)
            keys[key_name]["state"] = state.value
            return _info(key_name, keys[key_name])

    def list(self) -> list[KeyInfo]:
        return [_info(name, entry) for name, entry in sorted(self._keys().items())]

    # internals -----------------------------------------------------------------------

    def _usable(self, key_name: str) -> bytes:
        entry = self._keys().get(key_name)
        if entry is None:
            raise KeyNotFound(key_name)
        if entry["state"] != KeyState.ENABLED.value:
            raise KeyDisabled(key_name)
        sealed = base64.b64decode(entry["material"])
        try:
            return AESGCM(self._master()).decrypt(
                sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], key_name.encode()
            )
        except InvalidTag:
            raise ValueError(f"key {key_name} does not open under this data dir's master key") from None

    def _keys(self) -> dict[str, Any]:
        path = self.directory / KEYRING_FILE
        try:
            st = path.stat()
        except FileNotFoundError:
            return {}
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        with self._lock:
            if self._cache is None or self._cache[0] != stamp:
                data = json.loads(path.read_text())
                self._cache = (stamp, dict(data.get("keys", {})))
            return self._cache[1]

    def _master(self) -> bytes:
        path = self.directory / MASTER_KEY_FILE
        with contextlib.suppress(FileNotFoundError):
            return path.read_bytes()
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(KEY_BYTES))
        return path.read_bytes()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[dict[str, Any]]:
        """The keys, to change in place; written back whole, under a lock between processes."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.directory / LOCK_FILE, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            path = self.directory / KEYRING_FILE
            keys: dict[str, Any] = json.loads(path.read_text()).get("keys", {}) if path.exists() else {}
            yield keys
            temp = path.with_name(f".{KEYRING_FILE}.{os.getpid()}.tmp")
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                json.dump({"version": 1, "keys": keys}, out, indent=1, sort_keys=True)
            os.replace(temp, path)


def _info(name: str, entry: dict[str, Any]) -> KeyInfo:
    return KeyInfo(name, KeyState(entry["state"]), str(entry.get("createTime", "")))
