"""OpenID Connect ID tokens: signed JWTs verified against the configured issuer's keys.

The issuer's signing keys (its JWKS) are fetched from `jwks_url`, or from the `jwks_uri`
its discovery document (`ISSUER/.well-known/openid-configuration`) names, on first use,
and cached; a token signed by a key not in the cache makes PyJWT fetch the set again, so
the issuer can rotate keys. Only asymmetric algorithms are accepted: a token cannot pick
HS256 and sign itself with the public key.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import jwt

log = logging.getLogger(__name__)

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
FETCH_TIMEOUT_S = 5.0
JWKS_CACHE_S = 300
CLOCK_SKEW_S = 30
DISCOVERY_PATH = "/.well-known/openid-configuration"


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


@dataclass
class OidcVerifier:
    issuer: str
    audience: str
    jwks_url: str | None = None
    # The claim that names the principal; `sub` when the token lacks it (or an email is unverified).
    principal_claim: str = "email"
    _client: jwt.PyJWKClient | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def verify(self, token: str) -> str | None:
        """The principal of a valid ID token for our audience from our issuer, else None."""
        try:
            key = self._keys().get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=list(ALGORITHMS),
                audience=self.audience,
                issuer=self.issuer,
                leeway=CLOCK_SKEW_S,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
            log.info("OIDC token refused: %s", exc)
            return None
        except (OSError, ValueError) as exc:
            log.warning("OIDC issuer %s unreachable or malformed: %s", self.issuer, exc)
            return None
        return self._principal(claims)

    def _principal(self, claims: dict[str, Any]) -> str | None:
        value = claims.get(self.principal_claim)
        if self.principal_claim == "email" and claims.get("email_verified") is False:
            value = None
        if not isinstance(value, str) or not value:
            value = claims.get("sub")
        return value if isinstance(value, str) and value else None

    def _keys(self) -> jwt.PyJWKClient:
        with self._lock:
            if self._client is None:
                url = self.jwks_url or _discover_jwks_uri(self.issuer)
                self._client = jwt.PyJWKClient(
                    url, cache_keys=True, lifespan=JWKS_CACHE_S, timeout=int(FETCH_TIMEOUT_S)
                )
            return self._client


def _discover_jwks_uri(issuer: str) -> str:
    url = issuer.rstrip("/") + DISCOVERY_PATH
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"the OIDC issuer must be an http(s) URL, not {issuer!r}")
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as response:
        document = json.loads(response.read(1024 * 1024))
    jwks_uri = document.get("jwks_uri") if isinstance(document, dict) else None
    if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
        raise ValueError(f"{url} names no http(s) jwks_uri")
    return jwks_uri
