"""The self-signed gRPC certificate: made once, valid for localhost and 127.0.0.1, reused."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

from cryptography import x509

from customjobs.api.grpc.tls import ensure_self_signed, resolve


def test_made_once_then_reused(tmp_path: Path) -> None:
    first = ensure_self_signed(tmp_path / "tls")
    cert_bytes = first.cert.read_bytes()
    second = ensure_self_signed(tmp_path / "tls")
    assert second == first
    assert second.cert.read_bytes() == cert_bytes
    assert stat.S_IMODE(first.key.stat().st_mode) == 0o600


def test_names_localhost_and_loopback(tmp_path: Path) -> None:
    cert = x509.load_pem_x509_certificate(ensure_self_signed(tmp_path).cert.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)


def test_an_unreadable_certificate_is_replaced(tmp_path: Path) -> None:
    files = ensure_self_signed(tmp_path)
    files.cert.write_text("not a certificate")
    ensure_self_signed(tmp_path)
    x509.load_pem_x509_certificate(files.cert.read_bytes())


def test_user_files_are_used_as_given(tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    files = resolve(tmp_path / "data", cert, key)
    assert (files.cert, files.key, files.self_signed) == (cert, key, False)
    assert not (tmp_path / "data").exists()
