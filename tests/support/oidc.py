"""A tiny OpenID Connect issuer for tests: an RSA key, its JWKS over HTTP, and signed ID tokens."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

AUDIENCE = "customjobs-test-client"
KEY_ID = "test-key-1"


@dataclass
class Issuer:
    url: str
    key: rsa.RSAPrivateKey

    def token(self, claims: dict[str, Any] | None = None, **overrides: Any) -> str:
        now = int(time.time())
        body = {"iss": self.url, "aud": AUDIENCE, "sub": "1234", "iat": now, "exp": now + 300}
        body.update(claims or {})
        headers = {"kid": overrides.pop("kid", KEY_ID)}
        key = overrides.pop("key", self.key)
        algorithm = overrides.pop("algorithm", "RS256")
        return jwt.encode(body, key, algorithm=algorithm, headers=headers)


def _handler(issuer_url: list[str], jwks: dict[str, Any]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/.well-known/openid-configuration":
                body = {"issuer": issuer_url[0], "jwks_uri": issuer_url[0] + "/jwks"}
            elif self.path == "/jwks":
                body = jwks
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def local_issuer() -> Iterator[Issuer]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": KEY_ID, "use": "sig", "alg": "RS256"})
    url: list[str] = [""]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(url, {"keys": [jwk]}))
    url[0] = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Issuer(url[0], key)
    finally:
        server.shutdown()
        server.server_close()
