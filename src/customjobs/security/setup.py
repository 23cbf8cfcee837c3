"""Building the access control from settings, and the rule about where it may be off.

Without authentication every caller may do everything, which is only safe where only
this machine can connect: `check_exposure` refuses a non-loopback address then.
"""

from __future__ import annotations

import ipaddress
import logging

from customjobs.security.access import AccessControl
from customjobs.security.authn import Authenticator
from customjobs.security.oidc import OidcVerifier
from customjobs.security.policy import Policy
from customjobs.security.settings import SecurityConfigError, SecuritySettings
from customjobs.security.tokens import StaticTokens

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, settings: SecuritySettings) -> None:
    if not settings.auth_enabled and not is_loopback(host):
        raise SecurityConfigError(
            f"refusing to listen on {host} without authentication: anyone who can reach it could run "
            "code here. Pass --auth-tokens FILE and/or --oidc-issuer URL (with --policy FILE), "
            "or listen on 127.0.0.1."
        )


def build_access(settings: SecuritySettings) -> AccessControl:
    if not settings.auth_enabled:
        if settings.policy_file is not None:
            raise SecurityConfigError("--policy needs authentication: --auth-tokens and/or --oidc-issuer")
        log.warning(
            "authentication is off: every local caller may do everything (listening on loopback only)"
        )
        return AccessControl()
    if settings.policy_file is None:
        raise SecurityConfigError(
            "authentication is on but no --policy grants any role: every call would be refused"
        )
    tokens = StaticTokens.load(settings.tokens_file) if settings.tokens_file else None
    oidc = None
    if settings.oidc_issuer is not None:
        if not settings.oidc_audience:
            raise SecurityConfigError("--oidc-issuer needs --oidc-audience (the client id tokens are for)")
        oidc = OidcVerifier(
            settings.oidc_issuer,
            settings.oidc_audience,
            settings.oidc_jwks_url,
            settings.oidc_principal_claim,
        )
    policy = Policy.load(settings.policy_file)
    log.info(
        "authentication is on: %s static token(s)%s; policy from %s",
        len(tokens) if tokens else 0,
        f", OIDC ID tokens from {settings.oidc_issuer}" if oidc else "",
        settings.policy_file,
    )
    return AccessControl(Authenticator(tokens, oidc), policy)
