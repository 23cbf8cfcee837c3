"""Static tokens, role bindings and the access check, without a server."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from customjobs.errors import InvalidArgument, PermissionDenied, Unauthenticated
from customjobs.security.access import AccessControl
from customjobs.security.authn import Authenticator, bearer_token
from customjobs.security.permissions import METHOD_PERMISSIONS, USER_PERMISSIONS, VIEWER_PERMISSIONS
from customjobs.security.policy import Policy, PolicyError
from customjobs.security.principal import LOCAL_USER, Principal, acting_as, caller
from customjobs.security.tokens import StaticTokens, TokenFileError

TOKEN = "a-token-of-sufficient-length"


def test_tokens_plain_and_hashed(tmp_path: Path) -> None:
    hashed = hashlib.sha256(b"another-long-token-value").hexdigest()
    path = tmp_path / "tokens.yaml"
    path.write_text(f'"{TOKEN}": alice\n"sha256:{hashed}": bot\n')
    tokens = StaticTokens.load(path)
    assert tokens.lookup(TOKEN) == "alice"
    assert tokens.lookup("another-long-token-value") == "bot"
    assert tokens.lookup(f"sha256:{hashed}") is None  # the hash itself is no credential
    assert tokens.lookup(TOKEN[:-1]) is None


@pytest.mark.parametrize(
    "text", ["short: alice\n", '"sha256:abc": bot\n', "[a, b]\n", "", f'"{TOKEN}": 3\n', "a: [b\n"]
)
def test_tokens_file_problems_are_reported(tmp_path: Path, text: str) -> None:
    path = tmp_path / "tokens.yaml"
    path.write_text(text)
    with pytest.raises(TokenFileError):
        StaticTokens.load(path)


def test_bearer_token_parsing() -> None:
    assert bearer_token(f"Bearer {TOKEN}") == TOKEN
    assert bearer_token(f"bearer   {TOKEN} ") == TOKEN
    assert bearer_token(f"Basic {TOKEN}") is None
    assert bearer_token("Bearer ") is None
    assert bearer_token(None) is None
    assert bearer_token("Bearer " + "x" * 20000) is None


def _policy(tmp_path: Path, text: str) -> Policy:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return Policy.load(path)


def test_roles_per_project(tmp_path: Path) -> None:
    policy = _policy(
        tmp_path,
        """
bindings:
  - {role: user, members: [alice], projects: [a]}
  - {role: roles/aiplatform.viewer, members: [carol], projects: [a, b]}
  - {role: admin, members: [root], projects: ["*"]}
  - {role: viewer, members: [allAuthenticatedUsers], projects: [public]}
""",
    )
    assert policy.allows("alice", "aiplatform.customJobs.create", "a")
    assert not policy.allows("alice", "aiplatform.customJobs.get", "b")
    assert policy.allows("carol", "aiplatform.customJobs.list", "b")
    assert not policy.allows("carol", "aiplatform.customJobs.cancel", "a")
    assert policy.allows("root", "anything.at.all", "whatever")
    assert policy.allows("stranger", "aiplatform.customJobs.get", "public")
    assert not policy.allows("stranger", "aiplatform.customJobs.create", "public")


@pytest.mark.parametrize(
    "text",
    [
        "bindings: 3\n",
        "bindings:\n  - {role: owner, members: [a], projects: [p]}\n",
        "bindings:\n  - {role: user, members: [], projects: [p]}\n",
        "bindings:\n  - {role: user, members: [a]}\n",
        "nothing: here\n",
    ],
)
def test_bad_policies_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(PolicyError):
        _policy(tmp_path, text)


def test_every_method_permission_belongs_to_a_role() -> None:
    storage_admin_only = {"storage.buckets.delete"}
    for method, permission in METHOD_PERMISSIONS.items():
        assert permission in USER_PERMISSIONS or permission in storage_admin_only, method
    assert VIEWER_PERMISSIONS < USER_PERMISSIONS


def test_access_control_messages(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "bindings:\n  - {role: viewer, members: [carol], projects: [a]}\n")
    path = tmp_path / "tokens.yaml"
    path.write_text(f'"{TOKEN}": carol\n')
    access = AccessControl(Authenticator(StaticTokens.load(path)), policy)
    with pytest.raises(Unauthenticated):
        access.authenticate(None)
    carol = access.authenticate(f"Bearer {TOKEN}")
    with acting_as(carol):
        assert caller() == carol
        access.require("GetCustomJob", "a", "l")
        with pytest.raises(PermissionDenied) as denied:
            access.require("CreateCustomJob", "a", "l")
        assert denied.value.message == (
            "Permission 'aiplatform.customJobs.create' denied on resource "
            "'//aiplatform.googleapis.com/projects/a/locations/l' (or it may not exist)."
        )
        with pytest.raises(InvalidArgument):
            access.require_on_name("x", "projects/a")
    with pytest.raises(Unauthenticated):  # outside any request: nobody
        access.require("GetCustomJob", "a", "l")


def test_access_off_allows_everything() -> None:
    access = AccessControl()
    assert access.authenticate(None) == LOCAL_USER
    access.require("DeleteCustomJob", "any", "where")
    assert AccessControl.closed().allows(Principal("x"), "aiplatform.customJobs.get", "p") is False
