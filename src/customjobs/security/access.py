"""The one access check every API method goes through, whatever transport it came by.

`authenticate` turns a transport's credential into a principal (or Vertex's 401);
`require` checks the permission a method needs on the project it touches (or Vertex's
403, worded as Google words it). The resource a denial names is the project and location,
never the job, and the check runs before anything is looked up, so a caller without
access to a project learns nothing about what it holds: the same 403 whether a job
exists or not.

With authentication off (`AccessControl()`, loopback only) every caller is LOCAL_USER
and every check passes.
"""

from __future__ import annotations

from dataclasses import dataclass

from customjobs import names
from customjobs.errors import InvalidArgument, PermissionDenied, Unauthenticated
from customjobs.security.authn import UNAUTHENTICATED_MESSAGE, Authenticator
from customjobs.security.permissions import aiplatform_resource, permission_of
from customjobs.security.policy import Policy
from customjobs.security.principal import LOCAL_USER, Principal, caller


def denied_message(permission: str, resource: str) -> str:
    return f"Permission '{permission}' denied on resource '{resource}' (or it may not exist)."


@dataclass
class AccessControl:
    authenticator: Authenticator | None = None
    policy: Policy | None = None

    @classmethod
    def closed(cls) -> AccessControl:
        """Authentication on, no token valid, nothing granted: refuses everything."""
        return cls(Authenticator(), Policy())

    @property
    def enabled(self) -> bool:
        return self.authenticator is not None

    @property
    def may_block(self) -> bool:
        return self.authenticator is not None and self.authenticator.may_block

    def authenticate(self, authorization: str | None) -> Principal:
        """The caller a credential proves; LOCAL_USER when authentication is off."""
        if self.authenticator is None:
            return LOCAL_USER
        return self.authenticator.authenticate(authorization)

    def allows(self, principal: Principal, permission: str, project: str) -> bool:
        if not self.enabled:
            return True
        if not principal.authenticated or self.policy is None:
            return False
        return self.policy.allows(principal.name, permission, project)

    def require(self, method: str, project: str, location: str) -> None:
        """The caller may call `method` (a METHOD_PERMISSIONS key) on projects/P/locations/L."""
        self.require_permission(permission_of(method), project, aiplatform_resource(project, location))

    def require_permission(
        self, permission: str, project: str, resource: str, principal: Principal | None = None
    ) -> None:
        who = principal or caller()
        if self.allows(who, permission, project):
            return
        if not who.authenticated:
            raise Unauthenticated(UNAUTHENTICATED_MESSAGE)
        raise PermissionDenied(denied_message(permission, resource))

    def require_on_name(
        self, permission: str, resource_name: str, principal: Principal | None = None
    ) -> None:
        """A check on any resource named `projects/P/locations/L/...` (a job, a shell's job)."""
        project, location = project_and_location(resource_name)
        self.require_permission(permission, project, aiplatform_resource(project, location), principal)


def project_and_location(resource_name: str) -> tuple[str, str]:
    parts = resource_name.strip("/").split("/")
    if len(parts) < 4 or parts[0] != "projects" or parts[2] != "locations" or not parts[1] or not parts[3]:
        raise InvalidArgument(f'Invalid resource name "{resource_name}": expected projects/*/locations/*/...')
    names.parse_parent(f"projects/{parts[1]}/locations/{parts[3]}")
    return parts[1], parts[3]
