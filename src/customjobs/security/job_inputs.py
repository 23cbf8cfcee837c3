"""What a new job may name besides its own project: keys, packages and an output directory.

With authentication on, a job runs on behalf of its creator, so everything its spec points
at is checked against the creator's roles before it is stored:

- `encryptionSpec.kmsKeyName`: the creator may use keys of the key's project;
- `pythonPackageSpec.packageUris`: gs:// objects the creator may read, or http(s) URLs;
  local paths and file:// URIs would let a job copy any file the server can read, so
  they are refused;
- `baseOutputDirectory`: a gs:// bucket the creator may write, or a new bucket, which
  then belongs to the job's project; local paths are refused for the same reason.

With authentication off (loopback only) the caller owns the machine and nothing here applies.
"""

from __future__ import annotations

import json
from typing import Any

from customjobs.domain.job import NewJob
from customjobs.errors import FieldViolation, InvalidArgument, PermissionDenied
from customjobs.kms.base import key_project
from customjobs.kms.jobdata import requested_key, unusable_key
from customjobs.security.access import AccessControl, denied_message
from customjobs.security.permissions import (
    BUCKETS_CREATE,
    KEYS_ENCRYPT,
    OBJECTS_CREATE,
    OBJECTS_GET,
    bucket_resource,
)
from customjobs.security.principal import Principal
from customjobs.storage.errors import StorageError
from customjobs.storage.names import GS_SCHEME, parse_gs_uri
from customjobs.storage.owners import UNOWNED, BucketOwners

REMOTE_SCHEMES = ("https://", "http://")
LOCAL_REFUSED = (
    "Local paths and file:// URIs are not allowed on a server with authentication; "
    "use a gs:// URI of a bucket your project may read."
)


class JobInputs:
    def __init__(self, access: AccessControl, owners: BucketOwners) -> None:
        self.access = access
        self.owners = owners

    def check(self, new: NewJob, principal: Principal) -> None:
        """Raise Vertex's 400/403 unless the principal may have the job use what its spec names."""
        if not self.access.enabled:
            return
        key_name = requested_key(new.spec_json)
        if key_name is not None and not self.access.allows(principal, KEYS_ENCRYPT, key_project(key_name)):
            raise unusable_key(key_name)
        spec: dict[str, Any] = json.loads(new.spec_json).get("jobSpec", {})
        violations: list[FieldViolation] = []
        for i, pool in enumerate(spec.get("workerPoolSpecs", [])):
            uris = (pool.get("pythonPackageSpec") or {}).get("packageUris", [])
            for k, uri in enumerate(uris):
                path = f"job_spec.worker_pool_specs[{i}].python_package_spec.package_uris[{k}]"
                self._package(str(uri), path, principal, violations)
        base = (spec.get("baseOutputDirectory") or {}).get("outputUriPrefix")
        if base:
            self._output(str(base), new.project, principal, violations)
        if violations:
            raise InvalidArgument.from_violations(violations)

    def _package(self, uri: str, path: str, who: Principal, out: list[FieldViolation]) -> None:
        if uri.startswith(REMOTE_SCHEMES):
            return
        if not uri.startswith(GS_SCHEME):
            out.append(FieldViolation(path, LOCAL_REFUSED))
            return
        bucket = self._bucket(uri, path, out)
        if bucket is not None:
            self._require(who, OBJECTS_GET, bucket, self.owners.owner(bucket) or UNOWNED)

    def _output(self, uri: str, project: str, who: Principal, out: list[FieldViolation]) -> None:
        path = "job_spec.base_output_directory.output_uri_prefix"
        if not uri.startswith(GS_SCHEME):
            out.append(FieldViolation(path, LOCAL_REFUSED))
            return
        bucket = self._bucket(uri, path, out)
        if bucket is None:
            return
        owner = self.owners.owner(bucket)
        # A new bucket becomes the job's project's; an existing unowned one stays admins' only.
        if (
            owner is None
            and not self.owners.exists(bucket)
            and self.access.allows(who, BUCKETS_CREATE, project)
        ):
            owner = self.owners.claim(bucket, project)
        self._require(who, OBJECTS_CREATE, bucket, owner or UNOWNED)

    def _bucket(self, uri: str, path: str, out: list[FieldViolation]) -> str | None:
        try:
            bucket, _ = parse_gs_uri(uri)
        except StorageError as exc:
            out.append(FieldViolation(path, exc.message))
            return None
        return bucket

    def _require(self, who: Principal, permission: str, bucket: str, project: str) -> None:
        if not self.access.allows(who, permission, project):
            raise PermissionDenied(denied_message(permission, bucket_resource(bucket)))
