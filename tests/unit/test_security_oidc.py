"""OIDC ID tokens against a local issuer: a locally made RSA key, its JWKS served over HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from customjobs.security.oidc import OidcVerifier
from support.oidc import AUDIENCE, Issuer, local_issuer


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    with local_issuer() as found:
        yield found


def test_valid_tokens_name_their_principal(issuer: Issuer) -> None:
    verifier = OidcVerifier(issuer.url, AUDIENCE)  # keys found through discovery
    assert verifier.verify(issuer.token({"email": "dana@example.com", "email_verified": True})) == (
        "dana@example.com"
    )
    assert verifier.verify(issuer.token({"email": "eve@example.com", "email_verified": False})) == "1234"
    assert verifier.verify(issuer.token()) == "1234"
    by_sub = OidcVerifier(issuer.url, AUDIENCE, jwks_url=issuer.url + "/jwks", principal_claim="sub")
    assert by_sub.verify(issuer.token({"email": "x@example.com"})) == "1234"


def test_invalid_tokens_are_refused(issuer: Issuer) -> None:
    verifier = OidcVerifier(issuer.url, AUDIENCE)
    now = int(time.time())
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = issuer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    refused = [
        issuer.token({"exp": now - 3600, "iat": now - 7200}),
        issuer.token({"aud": "someone-else"}),
        issuer.token({"iss": "https://evil.example.com"}),
        issuer.token(key=other_key),
        issuer.token(kid="unknown-key"),
        jwt.encode(
            {"iss": issuer.url, "aud": AUDIENCE, "sub": "1", "exp": now + 60, "iat": now}, None, "none"
        ),
        # HS256 keyed with the public key: the classic algorithm confusion.
        _hs256_with(public_pem, issuer.url, now),
        "not.a.jwt",
        "a.b",
    ]
    for token in refused:
        assert verifier.verify(token) is None, token


def _hs256_with(secret: bytes, iss: str, now: int) -> str:
    """Built by hand: PyJWT itself refuses to sign HS256 with a PEM public key."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "test-key-1"}).encode())
    body = b64(json.dumps({"iss": iss, "aud": AUDIENCE, "sub": "1", "exp": now + 60, "iat": now}).encode())
    signature = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64(signature)}"


def test_unreachable_issuer_refuses_without_raising() -> None:
    verifier = OidcVerifier("http://127.0.0.1:9", AUDIENCE)
    assert verifier.verify("a.b.c") is None
