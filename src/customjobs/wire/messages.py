"""The official message classes per API version, loaded once and only when used.

`google.cloud.aiplatform_v1`'s package `__init__` imports every service client of
Vertex (about 365 modules, 100 MB and a second), while the server needs only its
`types` (the messages: about 20 MB and a quarter of a second). So the package is
registered un-run, its `types` imported, and the package body runs only if something
asks it for more (then everything is there as usual): a test or a client in the same
process still gets the whole package. v1beta1 is loaded only if a client speaks it.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any

VERSIONS = ("v1", "v1beta1")
_LOCK = threading.Lock()


@dataclass(frozen=True)
class VersionTypes:
    version: str
    custom_job: Any  # raw protobuf class of google.cloud.aiplatform.<version>.CustomJob
    list_response: Any
    delete_metadata: Any
    package: str  # proto package, for Any type URLs


def types_module(version: str) -> ModuleType:
    """`google.cloud.aiplatform_<version>.types`, without running the package's own body."""
    if version not in VERSIONS:
        raise ValueError(f"unknown API version {version!r}")
    name = f"google.cloud.aiplatform_{version}"
    with _LOCK:
        if name not in sys.modules:
            _register_deferred(name)
    return importlib.import_module(f"{name}.types")


def _register_deferred(name: str) -> None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def complete(attribute: str) -> Any:
        # PEP 562: called only for attributes the package does not have yet.
        with _LOCK:
            if package.__dict__.pop("__getattr__", None) is not None:
                loader.exec_module(package)
        return getattr(package, attribute) if attribute in package.__dict__ else _missing(name, attribute)

    package.__dict__["__getattr__"] = complete
    sys.modules[name] = package
    parent, _, child = name.rpartition(".")
    setattr(importlib.import_module(parent), child, package)


def _missing(module: str, attribute: str) -> Any:
    raise AttributeError(f"module {module!r} has no attribute {attribute!r}")


@functools.cache
def types_for(version: str) -> VersionTypes:
    module = types_module(version)
    return VersionTypes(
        version=version,
        custom_job=module.CustomJob.pb(),
        list_response=module.ListCustomJobsResponse.pb(),
        delete_metadata=module.DeleteOperationMetadata.pb(),
        package=f"google.cloud.aiplatform.{version}",
    )
