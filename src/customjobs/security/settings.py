"""The security part of Settings: authentication, authorization, request limits, REST TLS."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Google's front end refuses larger bodies with "Request payload size exceeds the limit".
DEFAULT_MAX_REQUEST_BYTES = 10 * 1024 * 1024


class SecurityConfigError(ValueError):
    """Settings that would leave the server open, or files that cannot be used."""


@dataclass(frozen=True)
class SecuritySettings:
    # `--auth-tokens`: YAML token -> principal (security/tokens.py).
    tokens_file: Path | None = None
    # `--policy`: YAML role bindings per project (security/policy.py).
    policy_file: Path | None = None
    # `--oidc-issuer/--oidc-audience[/--oidc-jwks-url]`: accept ID tokens from this issuer.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    oidc_principal_claim: str = "email"
    # `--rest-tls`: serve REST over TLS with --tls-cert/--tls-key (or the self-signed pair).
    rest_tls: bool = False
    # Largest request body of the Vertex and Logging APIs; uploads to the Storage API are not capped.
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES

    @property
    def auth_enabled(self) -> bool:
        return self.tokens_file is not None or self.oidc_issuer is not None
