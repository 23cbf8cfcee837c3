"""The official message classes per API version, loaded once and only when used.

Importing an aiplatform types package loads every Vertex type (about a second and
100 MB), so v1beta1 is imported only if a client speaks it.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from typing import Any

VERSIONS = ("v1", "v1beta1")


@dataclass(frozen=True)
class VersionTypes:
    version: str
    custom_job: Any  # raw protobuf class of google.cloud.aiplatform.<version>.CustomJob
    list_response: Any
    delete_metadata: Any
    package: str  # proto package, for Any type URLs


@functools.cache
def types_for(version: str) -> VersionTypes:
    if version not in VERSIONS:
        raise ValueError(f"unknown API version {version!r}")
    module = importlib.import_module(f"google.cloud.aiplatform_{version}")
    return VersionTypes(
        version=version,
        custom_job=module.CustomJob.pb(),
        list_response=module.ListCustomJobsResponse.pb(),
        delete_metadata=module.DeleteOperationMetadata.pb(),
        package=f"google.cloud.aiplatform.{version}",
    )
