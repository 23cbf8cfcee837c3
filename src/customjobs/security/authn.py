"""Bearer tokens in, a principal out: static tokens first, then OIDC ID tokens.

Both transports hand over the raw credential they received (REST's `Authorization`
header, gRPC's `authorization` metadata) and get a principal or Vertex's 401.
"""

from __future__ import annotations

from dataclasses import dataclass

from customjobs.errors import Unauthenticated
from customjobs.security.oidc import OidcVerifier, looks_like_jwt
from customjobs.security.principal import Principal
from customjobs.security.tokens import StaticTokens

UNAUTHENTICATED_MESSAGE = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential."
)
# Longer credentials are refused unread: a JWT with a few claims is under 2 KiB.
MAX_CREDENTIAL_CHARS = 16 * 1024


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` value (scheme case-insensitive)."""
    if not authorization or len(authorization) > MAX_CREDENTIAL_CHARS:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


@dataclass
class Authenticator:
    tokens: StaticTokens | None = None
    oidc: OidcVerifier | None = None

    @property
    def may_block(self) -> bool:
        """Whether authenticate() may wait on the network (an OIDC key fetch)."""
        return self.oidc is not None

    def authenticate(self, authorization: str | None) -> Principal:
        token = bearer_token(authorization)
        name = None
        if token is not None and self.tokens is not None:
            name = self.tokens.lookup(token)
        if name is None and token is not None and self.oidc is not None and looks_like_jwt(token):
            name = self.oidc.verify(token)
        if name is None:
            raise Unauthenticated(UNAUTHENTICATED_MESSAGE)
        return Principal(name)
