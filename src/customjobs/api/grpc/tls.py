"""The gRPC server's TLS files: the user's own, or a self-signed pair kept in the data dir.

The high-level SDK speaks gRPC only over TLS, so `serve --grpc-tls` must work without any
setup: it makes a certificate for localhost and 127.0.0.1 once and reuses it on every
restart, so a client that trusts it (GRPC_DEFAULT_SSL_ROOTS_FILE_PATH) keeps trusting it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

log = logging.getLogger(__name__)

TLS_DIR_NAME = "tls"
CERT_FILE_NAME = "grpc-cert.pem"
KEY_FILE_NAME = "grpc-key.pem"
CERT_VALIDITY_DAYS = 3650
# A stored certificate this close to expiry is replaced rather than reused.
RENEW_BEFORE_DAYS = 30
HOSTNAMES = ("localhost",)
ADDRESSES = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path
    self_signed: bool

    def server_credentials(self) -> Any:
        return grpc.ssl_server_credentials([(self.key.read_bytes(), self.cert.read_bytes())])


def resolve(data_dir: Path, cert: Path | None, key: Path | None) -> TlsFiles:
    """The user's certificate and key when given, else the data dir's self-signed pair."""
    if cert is not None and key is not None:
        return TlsFiles(cert, key, self_signed=False)
    return ensure_self_signed(data_dir / TLS_DIR_NAME)


def ensure_self_signed(directory: Path) -> TlsFiles:
    directory = directory.absolute()  # the path is printed for the user's shell
    files = TlsFiles(directory / CERT_FILE_NAME, directory / KEY_FILE_NAME, self_signed=True)
    if files.key.exists() and _still_valid(files.cert):
        return files
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    _write(
        files.key,
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        mode=0o600,
    )
    _write(files.cert, _certificate(key).public_bytes(serialization.Encoding.PEM), mode=0o644)
    log.info("made a self-signed gRPC certificate at %s", files.cert)
    return files


def _certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "customjobs localhost")])
    now = dt.datetime.now(dt.UTC)
    alt_names: list[x509.GeneralName] = [x509.DNSName(h) for h in HOSTNAMES]
    alt_names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ADDRESSES]
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=CERT_VALIDITY_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )


def _still_valid(path: Path) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return False
    renew_at = dt.datetime.now(dt.UTC) + dt.timedelta(days=RENEW_BEFORE_DAYS)
    return cert.not_valid_after_utc > renew_at


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write via a temporary file and rename, so a reader never sees half a PEM file."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
