"""Fetching a pythonPackageSpec's packageUris into the replica's folder.

Vertex copies each package to the container before installing it; so do we, from a local
path, `file://`, `http(s)://` or `gs://` (a local bucket). Each lands in its own numbered
folder under its own file name: pip reads a wheel's tags from its name, and two URIs may
end in the same name.
"""

from __future__ import annotations

import shutil
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlparse

from customjobs.storage.errors import StorageError
from customjobs.storage.names import gs_uri_path

HTTP_TIMEOUT_S = 60.0


class FetchError(Exception):
    """A package could not be fetched; the message names it and says why."""


def fetch(uri: str, dest: Path, buckets_dir: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    try:
        if uri.startswith(("http://", "https://")):
            return _download(uri, dest)
        source = _local_source(uri, buckets_dir)
        if not source.is_file():
            raise FetchError(f"{uri}: no such file ({source})")
        target = dest / source.name
        shutil.copyfile(source, target)
        return target
    except (OSError, StorageError) as exc:
        raise FetchError(f"{uri}: {exc}") from exc


def _local_source(uri: str, buckets_dir: Path) -> Path:
    if uri.startswith("gs://"):
        return gs_uri_path(buckets_dir, uri)
    if uri.startswith("file://"):
        return Path(unquote(urlparse(uri).path))
    return Path(uri)


def _download(uri: str, dest: Path) -> Path:
    name = Path(unquote(urlparse(uri).path)).name
    if not name:
        raise FetchError(f"{uri}: the URL names no file")
    target = dest / name
    with urllib.request.urlopen(uri, timeout=HTTP_TIMEOUT_S) as response, open(target, "wb") as out:
        shutil.copyfileobj(response, out)
    return target
