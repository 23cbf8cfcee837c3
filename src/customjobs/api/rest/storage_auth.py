"""Who may use which bucket through the Storage API: a bucket's permissions are its project's.

A bucket belongs to the project that created it (`?project=P` on create, as the Google
clients send it) or whose job first named it as output (storage/owners.py). Every route
checks the caller's role in that project for the permission Cloud Storage would ask, and
answers Cloud Storage's own 403 when it is missing. Bucket names are one namespace, as on
Cloud Storage: that a name is taken is visible (creating it again is a 409 there too),
what is inside is not. Listing buckets needs `?project=` and shows that project's only.
With authentication off every check passes and owners are only recorded.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from customjobs.api.rest.auth import caller_of
from customjobs.api.rest.common import Handler, call
from customjobs.security.access import AccessControl
from customjobs.security.permissions import OBJECTS_CREATE, OBJECTS_GET
from customjobs.storage.errors import InvalidRequest, StorageError
from customjobs.storage.owners import UNOWNED, BucketOwners

_COPY_VERBS = ("/rewriteTo/b/", "/copyTo/b/")


class StorageForbidden(StorageError):
    http_status = 403
    reason = "forbidden"

    def __init__(self, principal: str, permission: str) -> None:
        kind = "object" if ".objects." in permission else "bucket"
        super().__init__(
            f"{principal} does not have {permission} access to the Google Cloud Storage {kind}. "
            f"Permission '{permission}' denied on resource (or it may not exist)."
        )


class StorageGuard:
    def __init__(self, access: AccessControl, owners: BucketOwners) -> None:
        self.access = access
        self.owners = owners

    def require(self, request: Request, permission: str, bucket: str) -> None:
        if not self.access.enabled:
            return
        who = caller_of(request)
        if not self.access.allows(who, permission, self.owners.owner(bucket) or UNOWNED):
            raise StorageForbidden(who.name, permission)

    def project(self, request: Request, permission: str) -> str | None:
        """The `project` query parameter, which the caller must hold `permission` in (when auth is on)."""
        project = request.query_params.get("project") or None
        if not self.access.enabled:
            return project
        if project is None:
            raise InvalidRequest("Required parameter: project")
        who = caller_of(request)
        if not self.access.allows(who, permission, project):
            raise StorageForbidden(who.name, permission)
        return project

    def visible(self, bucket: str, project: str | None) -> bool:
        """Whether a listing for `project` shows the bucket (every bucket with auth off)."""
        return not self.access.enabled or self.owners.owner(bucket) == project

    def created(self, bucket: str, project: str | None) -> None:
        if project is not None:
            self.owners.claim(bucket, project)

    def checked(self, permission: str, handler: Handler) -> Handler:
        """The handler, after a check of `permission` on the path's bucket."""

        async def wrapper(request: Request) -> Response:
            await call(self.require, request, permission, request.path_params["bucket"])
            return await handler(request)

        return wrapper

    def checked_copy(self, handler: Handler) -> Handler:
        """A copy reads its source bucket and writes the target named inside the object path."""

        async def wrapper(request: Request) -> Response:
            await call(self.require, request, OBJECTS_GET, request.path_params["bucket"])
            rest = request.path_params["object"]
            verb = next((v for v in _COPY_VERBS if v in rest), None)
            if verb is not None:
                target_bucket = rest.partition(verb)[2].partition("/o/")[0]
                await call(self.require, request, OBJECTS_CREATE, target_bucket)
            return await handler(request)

        return wrapper

    def releasing(self, handler: Handler) -> Handler:
        """Bucket delete: the owner is forgotten once the bucket is gone."""

        async def wrapper(request: Request) -> Response:
            response = await handler(request)
            if response.status_code < 300:
                await call(self.owners.release, request.path_params["bucket"])
            return response

        return wrapper
