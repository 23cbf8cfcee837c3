"""A test server with authentication on: three projects' principals, their tokens and roles."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

PROJECT_A = "team-a"
PROJECT_B = "team-b"
LOCATION = "us-central1"
PARENT_A = f"projects/{PROJECT_A}/locations/{LOCATION}"
PARENT_B = f"projects/{PROJECT_B}/locations/{LOCATION}"

# principal -> token; alice is a user of team-a, bob of team-b, carol a viewer of team-a.
TOKENS = {
    "alice@example.com": "tok-alice-0123456789abcdef",
    "bob@example.com": "tok-bob-0123456789abcdef",
    "carol@example.com": "tok-carol-0123456789abcdef",
    "root@example.com": "tok-root-0123456789abcdef",
}
ALICE, BOB, CAROL, ROOT = (TOKENS[p] for p in TOKENS)
POLICY = {
    "bindings": [
        {"role": "user", "members": ["alice@example.com"], "projects": [PROJECT_A]},
        {"role": "roles/aiplatform.user", "members": ["bob@example.com"], "projects": [PROJECT_B]},
        {"role": "viewer", "members": ["carol@example.com"], "projects": [PROJECT_A]},
        {"role": "admin", "members": ["root@example.com"], "projects": ["*"]},
    ]
}
UNAUTHENTICATED = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential."
)


def denied(permission: str, project: str, location: str = LOCATION) -> str:
    return (
        f"Permission '{permission}' denied on resource "
        f"'//aiplatform.googleapis.com/projects/{project}/locations/{location}' (or it may not exist)."
    )


def write_auth_files(directory: Path) -> list[str]:
    """The tokens and policy files; returns the `serve` flags that use them."""
    directory.mkdir(parents=True, exist_ok=True)
    tokens = directory / "tokens.yaml"
    # root's token is stored as its hash, as an operator would keep it.
    entries = {t: p for p, t in TOKENS.items() if p != "root@example.com"}
    entries["sha256:" + hashlib.sha256(ROOT.encode()).hexdigest()] = "root@example.com"
    tokens.write_text(yaml.safe_dump(entries))
    policy = directory / "policy.yaml"
    policy.write_text(yaml.safe_dump(POLICY))
    return ["--auth-tokens", str(tokens), "--policy", str(policy)]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
