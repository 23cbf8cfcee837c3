"""The local key ring and sealed data: round trips, offsets, tampering, disabled keys."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from customjobs.kms import envelope
from customjobs.kms.base import KeyDisabled, KeyNotFound, KeyState, check_key_name
from customjobs.kms.local import LocalKeyRing

KEY = "projects/p/locations/l/keyRings/r/cryptoKeys/k"
CHUNK = envelope.CHUNK_BYTES


@pytest.fixture
def ring(tmp_path: Path) -> LocalKeyRing:
    ring = LocalKeyRing(tmp_path / "kms")
    ring.create(KEY)
    return ring


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 7])
def test_round_trip_from_any_offset(ring: LocalKeyRing, size: int) -> None:
    data = os.urandom(size)
    sealed = envelope.seal_bytes(data, ring, KEY, b"ctx")
    assert data[:16] not in sealed[len(envelope.MAGIC) :] or size < 16
    assert envelope.open_bytes(sealed, ring, b"ctx") == data
    for start in {0, 5, CHUNK, CHUNK + 3, size}:
        got = b"".join(envelope.open_chunks(io.BytesIO(sealed), len(sealed), ring, b"ctx", start))
        assert got == data[start:]


def test_tampering_truncation_and_context_are_detected(ring: LocalKeyRing) -> None:
    data = os.urandom(2 * CHUNK + 10)
    sealed = envelope.seal_bytes(data, ring, KEY, b"ctx")
    flipped = bytearray(sealed)
    flipped[-5] ^= 1
    last_chunk = 10 + envelope.NONCE_BYTES + envelope.TAG_BYTES
    for bad in (bytes(flipped), sealed[:-1], sealed[:-last_chunk]):
        with pytest.raises(envelope.SealedDataError):
            envelope.open_bytes(bad, ring, b"ctx")
    with pytest.raises(envelope.SealedDataError):
        envelope.open_bytes(sealed, ring, b"another file")


def test_disabled_and_missing_keys(ring: LocalKeyRing, tmp_path: Path) -> None:
    sealed = envelope.seal_bytes(b"secret", ring, KEY, b"ctx")
    ring.set_state(KEY, KeyState.DISABLED)
    with pytest.raises(KeyDisabled):
        envelope.open_bytes(sealed, ring, b"ctx")
    with pytest.raises(KeyDisabled):
        envelope.seal_bytes(b"more", ring, KEY, b"ctx")
    # Another process (the CLI) enables it again: this ring sees the change at once.
    LocalKeyRing(tmp_path / "kms").set_state(KEY, KeyState.ENABLED)
    assert envelope.open_bytes(sealed, ring, b"ctx") == b"secret"
    with pytest.raises(KeyNotFound):
        envelope.seal_bytes(b"x", ring, KEY + "2", b"ctx")


def test_key_material_is_sealed_under_the_master_key(ring: LocalKeyRing, tmp_path: Path) -> None:
    directory = tmp_path / "kms"
    assert oct((directory / "master.key").stat().st_mode & 0o777) == "0o600"
    assert oct((directory / "keyring.json").stat().st_mode & 0o777) == "0o600"
    (directory / "master.key").write_bytes(os.urandom(32))  # a different master key
    with pytest.raises(ValueError, match="master key"):
        LocalKeyRing(directory).encrypt(KEY, b"x", b"")


def test_sealing_a_file_in_place(ring: LocalKeyRing, tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_bytes(b"line one\nline two\n")
    envelope.seal_file_in_place(path, ring, KEY, b"ctx")
    assert b"line" not in path.read_bytes() and envelope.is_sealed_file(path)
    assert b"".join(envelope.open_file(path, ring, b"ctx", 5)) == b"one\nline two\n"
    assert envelope.header_of(path).key_name == KEY


@pytest.mark.parametrize(
    "name", ["projects/p/locations/l/keyRings/r", "projects/../locations/l/keyRings/r/cryptoKeys/k", "x"]
)
def test_key_names_are_checked(name: str, ring: LocalKeyRing) -> None:
    with pytest.raises(ValueError):
        check_key_name(name)
    with pytest.raises(ValueError):
        ring.create(name)
    with pytest.raises(ValueError, match="already exists"):
        ring.create(KEY)
