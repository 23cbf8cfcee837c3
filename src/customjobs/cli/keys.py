"""`customjobs keys create|list|disable|enable NAME`: the local key ring that stands in for Cloud KMS.

These commands work on the data dir directly, not through the server: key material is
the operator's business, and whoever can read the data dir can read its master key
anyway, so an HTTP API for keys would only add a way in. A running server sees a change
at once (it re-reads the key ring file when it changes). Servers that share a database
must share the key ring too: point --data-dir at the same folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from customjobs.config import default_data_dir
from customjobs.kms.base import KeyNotFound, KeyState

if TYPE_CHECKING:
    from customjobs.kms.local import KeyInfo, LocalKeyRing


def _ring(ctx: click.Context) -> LocalKeyRing:
    # Imported here: cryptography is for key commands only, not every CLI start.
    from customjobs.kms.local import KEYRING_DIR_NAME, LocalKeyRing

    data_dir: Path = ctx.obj or default_data_dir()
    return LocalKeyRing(data_dir / KEYRING_DIR_NAME)


def _print(info: KeyInfo) -> None:
    click.echo(f"{info.name}\t{info.state.value}\t{info.create_time}")


@click.group()
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="The server's data dir [default: $CUSTOMJOBS_DATA_DIR or the user data folder].",
)  # fmt: skip
@click.pass_context
def keys(ctx: click.Context, data_dir: Path | None) -> None:
    """Customer-managed encryption keys (encryptionSpec.kmsKeyName) in the local key ring."""
    ctx.obj = data_dir


@keys.command()
@click.argument("name")
@click.pass_context
def create(ctx: click.Context, name: str) -> None:
    """Create an enabled key NAME (projects/P/locations/L/keyRings/R/cryptoKeys/K)."""
    try:
        _print(_ring(ctx).create(name))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


@keys.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """List keys: name, state, creation time (tab separated)."""
    for info in _ring(ctx).list():
        _print(info)


def _set_state(ctx: click.Context, name: str, state: KeyState) -> None:
    try:
        _print(_ring(ctx).set_state(name, state))
    except KeyNotFound as exc:
        raise click.ClickException(f"no key {name} in this key ring") from exc


@keys.command()
@click.argument("name")
@click.pass_context
def disable(ctx: click.Context, name: str) -> None:
    """Disable a key: what it protects cannot be read, and no new job may use it."""
    _set_state(ctx, name, KeyState.DISABLED)


@keys.command()
@click.argument("name")
@click.pass_context
def enable(ctx: click.Context, name: str) -> None:
    """Enable a disabled key again."""
    _set_state(ctx, name, KeyState.ENABLED)
