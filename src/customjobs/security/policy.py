"""Who holds which role in which project, from the `--policy` YAML file.

    bindings:
      - role: user                    # viewer | user | admin (roles/aiplatform.* spellings too)
        members: [alice@example.com, ci-bot]
        projects: [team-a]            # "*": every project
      - role: viewer
        members: [allAuthenticatedUsers]
        projects: [shared]

viewer: get and list jobs and operations, read logs, read buckets; user: viewer plus
create, cancel and delete, write buckets, use the project's encryption keys; admin:
everything. A member is a principal exactly as a token file or ID token names it, or
`allAuthenticatedUsers`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from customjobs.security.permissions import ALL, USER_PERMISSIONS, VIEWER_PERMISSIONS
from customjobs.security.settings import SecurityConfigError

ANY_PROJECT = "*"
ALL_AUTHENTICATED = "allAuthenticatedUsers"
ROLES: dict[str, frozenset[str]] = {
    "viewer": VIEWER_PERMISSIONS,
    "user": USER_PERMISSIONS,
    "admin": frozenset({ALL}),
}
_ROLE_ALIASES = {
    "roles/aiplatform.viewer": "viewer",
    "roles/aiplatform.user": "user",
    "roles/aiplatform.admin": "admin",
}


class PolicyError(SecurityConfigError):
    """The policy file cannot be used; the message says which binding and why."""


@dataclass
class Policy:
    # principal -> project (or "*") -> permissions
    grants: dict[str, dict[str, set[str]]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Policy:
        try:
            data = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise PolicyError(f"cannot read policy file {path}: {exc}") from exc
        bindings = data.get("bindings") if isinstance(data, dict) else None
        if not isinstance(bindings, list):
            raise PolicyError(f"{path}: expected a top-level 'bindings:' list")
        grants: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for number, binding in enumerate(bindings, 1):
            role, members, projects = _binding(binding, f"{path}: binding {number}")
            for member in members:
                for project in projects:
                    grants[member][project] |= ROLES[role]
        return cls({m: dict(p) for m, p in grants.items()})

    def allows(self, principal: str, permission: str, project: str) -> bool:
        for member in (principal, ALL_AUTHENTICATED):
            by_project = self.grants.get(member, {})
            for scope in (project, ANY_PROJECT):
                held = by_project.get(scope, ())
                if permission in held or ALL in held:
                    return True
        return False


def _binding(binding: object, where: str) -> tuple[str, list[str], list[str]]:
    if not isinstance(binding, dict):
        raise PolicyError(f"{where}: expected a mapping with role, members and projects")
    role = _ROLE_ALIASES.get(str(binding.get("role")), str(binding.get("role")))
    if role not in ROLES:
        raise PolicyError(f"{where}: unknown role {binding.get('role')!r} (viewer, user or admin)")
    return role, _strings(binding, "members", where), _strings(binding, "projects", where)


def _strings(binding: dict[object, object], key: str, where: str) -> list[str]:
    value = binding.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise PolicyError(f"{where}: '{key}' must be a non-empty list of strings")
    return [str(v) for v in value]
