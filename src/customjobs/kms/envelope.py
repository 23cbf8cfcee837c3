"""Sealed data: AES-256-GCM under a fresh data key, which the customer's key wraps.

    MAGIC | u32 header length | header JSON | chunk 0 | chunk 1 | ... | final chunk

The header names the key and carries the wrapped data key. Each chunk is a nonce and
the GCM ciphertext of CHUNK_BYTES of plaintext (the last one shorter, possibly empty);
its associated data binds the caller's context (e.g. `gs://bucket/name`), the header,
the chunk's index and whether it is the last, so chunks cannot be reordered, dropped,
truncated away or moved to another file. A reader can start at any plaintext offset
without decrypting what comes before it.
"""

from __future__ import annotations

import base64
import io
import json
import os
import secrets
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from customjobs.kms.base import Kms

MAGIC = b"\x00CJSEAL\x01"
CHUNK_BYTES = 64 * 1024
NONCE_BYTES = 12
TAG_BYTES = 16
MAX_HEADER_BYTES = 64 * 1024
_SEALED_CHUNK = NONCE_BYTES + CHUNK_BYTES + TAG_BYTES


class SealedDataError(ValueError):
    """Sealed data that is malformed, tampered with, or not for this context."""


@dataclass(frozen=True)
class Header:
    key_name: str
    wrapped_key: bytes
    raw: bytes  # the header's exact bytes, bound into every chunk

    @property
    def size(self) -> int:
        return len(MAGIC) + 4 + len(self.raw)


def is_sealed(prefix: bytes) -> bool:
    return prefix.startswith(MAGIC)


def is_sealed_file(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return is_sealed(f.read(len(MAGIC)))
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return False


def _chunk_aad(context: bytes, header: bytes, index: int, final: bool) -> bytes:
    return context + b"\0" + header + struct.pack(">QB", index, 1 if final else 0)


def seal_stream(chunks: Iterable[bytes], out: BinaryIO, kms: Kms, key_name: str, context: bytes) -> None:
    """Write `chunks` (any sizes) sealed to `out`; KeyUnavailable before anything is written."""
    data_key = AESGCM.generate_key(bit_length=256)
    wrapped = kms.encrypt(key_name, data_key, context)
    raw = json.dumps(
        {"kmsKeyName": key_name, "wrappedKey": base64.b64encode(wrapped).decode(), "chunkBytes": CHUNK_BYTES},
        sort_keys=True,
    ).encode()
    out.write(MAGIC + struct.pack(">I", len(raw)) + raw)
    aes = AESGCM(data_key)

    def write(plain: bytes, index: int, final: bool) -> None:
        nonce = secrets.token_bytes(NONCE_BYTES)
        out.write(nonce + aes.encrypt(nonce, plain, _chunk_aad(context, raw, index, final)))

    index = 0
    previous: bytes | None = None
    for piece in _rechunk(chunks):
        if previous is not None:
            write(previous, index, False)
            index += 1
        previous = piece
    write(previous or b"", index, True)


def _rechunk(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The bytes of `chunks` again, in pieces of exactly CHUNK_BYTES (the last may be shorter)."""
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= CHUNK_BYTES:
            yield bytes(buffer[:CHUNK_BYTES])
            del buffer[:CHUNK_BYTES]
    if buffer:
        yield bytes(buffer)


def seal_bytes(data: bytes, kms: Kms, key_name: str, context: bytes) -> bytes:
    out = io.BytesIO()
    seal_stream([data], out, kms, key_name, context)
    return out.getvalue()


_TEMP_SUFFIX = ".sealing"


def is_temp_name(file_name: str) -> bool:
    """A file seal_file_in_place is writing (never an object or a log of its own)."""
    return file_name.startswith(".") and file_name.endswith(_TEMP_SUFFIX)


def seal_file_in_place(path: Path, kms: Kms, key_name: str, context: bytes) -> None:
    """Replace a plaintext file by its sealed form, atomically (readers see one or the other)."""
    temp = path.with_name(f".{path.name}.{os.getpid()}{_TEMP_SUFFIX}")
    try:
        with open(path, "rb") as src, open(temp, "wb") as out:
            seal_stream(iter(lambda: src.read(CHUNK_BYTES), b""), out, kms, key_name, context)
        os.chmod(temp, os.stat(path).st_mode & 0o777)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def read_header(f: BinaryIO) -> Header:
    magic = f.read(len(MAGIC))
    if magic != MAGIC:
        raise SealedDataError("not sealed data")
    (length,) = struct.unpack(">I", _exactly(f, 4))
    if length > MAX_HEADER_BYTES:
        raise SealedDataError("sealed data header too long")
    raw = _exactly(f, length)
    try:
        fields = json.loads(raw)
        header = Header(str(fields["kmsKeyName"]), base64.b64decode(fields["wrappedKey"]), raw)
        chunk_bytes = int(fields["chunkBytes"])
    except (ValueError, KeyError, TypeError) as exc:
        raise SealedDataError(f"malformed sealed data header: {exc}") from exc
    if chunk_bytes != CHUNK_BYTES:
        raise SealedDataError(f"unsupported chunk size {chunk_bytes}")
    return header


def header_of(path: Path) -> Header:
    with open(path, "rb") as f:
        return read_header(f)


def _exactly(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise SealedDataError("sealed data is truncated")
    return data


def open_chunks(f: BinaryIO, size: int, kms: Kms, context: bytes, start: int = 0) -> Iterator[bytes]:
    """The plaintext of a sealed stream of `size` bytes from plaintext offset `start`, chunk by chunk.

    KeyUnavailable when the key cannot be used; SealedDataError for anything tampered with.
    """
    header = read_header(f)
    try:
        data_key = kms.decrypt(header.key_name, header.wrapped_key, context)
    except ValueError as exc:
        raise SealedDataError(f"the data key does not open for this context: {exc}") from exc
    aes = AESGCM(data_key)
    total = size - header.size
    count = max(1, -(-total // _SEALED_CHUNK))
    index = start // CHUNK_BYTES
    skip = start % CHUNK_BYTES
    if index >= count:
        return
    f.seek(header.size + index * _SEALED_CHUNK)
    while index < count:
        sealed = f.read(_SEALED_CHUNK)
        final = index == count - 1
        try:
            plain = aes.decrypt(
                sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _chunk_aad(context, header.raw, index, final)
            )
        except InvalidTag:
            raise SealedDataError(f"sealed data chunk {index} does not authenticate") from None
        yield plain[skip:]
        skip = 0
        index += 1


def open_bytes(data: bytes, kms: Kms, context: bytes) -> bytes:
    """The plaintext of sealed bytes (a small blob, such as a job's spec)."""
    return b"".join(open_chunks(io.BytesIO(data), len(data), kms, context))


def open_file(path: Path, kms: Kms, context: bytes, start: int = 0) -> Iterator[bytes]:
    """The plaintext of a sealed file from offset `start`, read one chunk at a time."""
    with open(path, "rb") as f:
        yield from open_chunks(f, os.fstat(f.fileno()).st_size, kms, context, start)
