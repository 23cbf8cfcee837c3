"""`customjobs serve`'s security flags, gathered into one SecuritySettings for the server.

Authentication is off unless --auth-tokens or --oidc-issuer is given, and then only a
loopback --host is allowed (security/setup.py).
"""

from __future__ import annotations

import functools
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from customjobs.security.settings import DEFAULT_MAX_REQUEST_BYTES, SecuritySettings

if TYPE_CHECKING:
    from customjobs.api.grpc.tls import TlsFiles
    from customjobs.config import Settings

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_OPTIONS = (
    click.option(
        "--auth-tokens", type=_FILE, default=None,
        help="YAML file of bearer tokens: TOKEN (or sha256:HEX) -> principal. Turns authentication on.",
    ),
    click.option(
        "--policy", "policy_file", type=_FILE, default=None,
        help="YAML role bindings per project (viewer, user, admin); needed with authentication.",
    ),
    click.option("--oidc-issuer", default=None, help="Also accept OIDC ID tokens from this issuer."),
    click.option("--oidc-audience", default=None, help="The audience (client id) ID tokens must be for."),
    click.option("--oidc-jwks-url", default=None, help="The issuer's JWKS URL [default: discovered]."),
    click.option(
        "--oidc-principal-claim", default="email", show_default=True,
        help="The ID token claim that names the principal (sub when absent).",
    ),
    click.option(
        "--rest-tls", is_flag=True,
        help="Serve REST over TLS too, with --tls-cert/--tls-key [default: the self-signed pair].",
    ),
    click.option(
        "--max-request-bytes", type=click.IntRange(min=1024), default=DEFAULT_MAX_REQUEST_BYTES,
        show_default=True, help="Largest API request body (Storage uploads excepted).",
    ),
)  # fmt: skip


def security_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the flags to a click command, which receives them as `security: SecuritySettings`."""

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        auth_tokens: Path | None,
        policy_file: Path | None,
        oidc_issuer: str | None,
        oidc_audience: str | None,
        oidc_jwks_url: str | None,
        oidc_principal_claim: str,
        rest_tls: bool,
        max_request_bytes: int,
        **kwargs: Any,
    ) -> Any:
        kwargs["security"] = SecuritySettings(
            tokens_file=auth_tokens,
            policy_file=policy_file,
            oidc_issuer=oidc_issuer,
            oidc_audience=oidc_audience,
            oidc_jwks_url=oidc_jwks_url,
            oidc_principal_claim=oidc_principal_claim,
            rest_tls=rest_tls,
            max_request_bytes=max_request_bytes,
        )
        return command(*args, **kwargs)

    decorated: Callable[..., Any] = wrapper
    for option in reversed(_OPTIONS):
        decorated = option(decorated)
    return decorated


def tls_files_for(settings: Settings, cert: Path | None, key: Path | None) -> TlsFiles:
    """REST's TLS files: the user's, or the data dir's self-signed pair (shared with gRPC)."""
    from customjobs.api.grpc import tls

    files = tls.resolve(settings.data_dir, cert, key)
    if files.self_signed:
        click.echo(f"export REQUESTS_CA_BUNDLE={shlex.quote(str(files.cert))}", err=True)
    return files
