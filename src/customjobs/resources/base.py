"""What every resource's protobuf-level methods share: the runtime, the access check, paging.

Each resource package has a `methods.py` whose class takes a protobuf request's fields and
returns protobuf messages; REST and gRPC both call only those (api/vertex.py puts them
together). So a rule written there holds on both transports, access check included: each
method asks `AccessControl.require` for its permission (security/permissions.py) on the
project it names before it looks anything up, as the transport's caller.
"""

from __future__ import annotations

from customjobs import names
from customjobs.runtime import Runtime
from customjobs.security.job_inputs import JobInputs
from customjobs.storage.owners import BucketOwners
from customjobs.wire import paging


class ResourceMethods:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.access = runtime.access
        # What a job of any resource may use (buckets, service account, KMS key) for its caller.
        self.inputs = JobInputs(runtime.access, BucketOwners(runtime.settings.buckets_dir))

    def _require(self, method: str, parent: names.Parent) -> None:
        self.access.require(method, parent.project, parent.location)

    def _page_size(self, requested: int) -> int:
        settings = self.rt.settings
        return paging.page_size(requested, settings.default_page_size, settings.max_page_size)
