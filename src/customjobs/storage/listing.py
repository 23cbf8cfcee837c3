"""Listing a local bucket as Cloud Storage lists objects: prefix, delimiter, offsets, pages.

Names come back in Cloud Storage's order (by UTF-8 bytes, which is Python's str order).
With a delimiter, names sharing the part of their name up to the delimiter after the
prefix collapse into one entry of `prefixes` ("directories"). The walk starts at the
prefix's own folder, and with the usual '/' delimiter it never descends: a subfolder is
exactly one prefix. Only the objects of the page being returned are stat'ed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from customjobs.storage.errors import InvalidRequest
from customjobs.storage.metadata import ObjectInfo
from customjobs.storage.objects import LocalBuckets

DEFAULT_MAX_RESULTS = 1000


@dataclass(frozen=True)
class ListQuery:
    prefix: str = ""
    delimiter: str = ""
    start_offset: str = ""
    end_offset: str = ""
    # The last name (or prefix) of the previous page: this page starts after it.
    after: str = ""
    max_results: int = DEFAULT_MAX_RESULTS
    include_trailing_delimiter: bool = False
    match_glob: str = ""


@dataclass(frozen=True)
class Listing:
    items: list[ObjectInfo]
    prefixes: list[str]
    # The key the next page starts after; None on the last page.
    next_after: str | None


def list_objects(buckets: LocalBuckets, bucket: str, query: ListQuery) -> Listing:
    if query.max_results < 0:
        raise InvalidRequest("maxResults must not be negative.")
    root = buckets.bucket_dir(bucket)
    glob = _glob_regex(query.match_glob) if query.match_glob else None
    entries: dict[str, bool] = {}  # key -> is a prefix
    for name, is_folder in _walk(root, query.prefix, query.delimiter == "/"):
        if is_folder:
            entries[name] = True
            if query.include_trailing_delimiter and _is_empty(root / name):
                entries[name + "\0object"] = False
            continue
        if glob is not None and not glob.fullmatch(name):
            continue
        rest = name[len(query.prefix) :]
        cut = rest.find(query.delimiter) if query.delimiter else -1
        if cut >= 0:
            group = query.prefix + rest[: cut + len(query.delimiter)]
            entries[group] = True
            if query.include_trailing_delimiter and group == name:
                entries[name + "\0object"] = False
        else:
            entries[name] = False
    keys = sorted(k for k in entries if _in_range(k.split("\0")[0], query))
    if query.after:
        keys = [k for k in keys if k > query.after]
    limit = query.max_results or DEFAULT_MAX_RESULTS
    page, more = keys[:limit], len(keys) > limit
    items, prefixes = [], []
    for key in page:
        name = key.split("\0")[0]
        if entries[key]:
            prefixes.append(name)
        else:
            info = _stat(buckets, bucket, name)
            if info is not None:
                items.append(info)
    return Listing(items, prefixes, page[-1] if more and page else None)


def _walk(root: Path, prefix: str, one_level: bool) -> Iterator[tuple[str, bool]]:
    """(name, is a folder reported as a prefix) for every object name that starts with `prefix`."""
    folder, _, leaf = prefix.rpartition("/")
    if folder and any(s in ("", ".", "..") for s in folder.split("/")):
        return  # no object of a local bucket has such a name (storage/names.py)
    start = root / folder if folder else root
    real_root = os.path.realpath(root)
    if not start.is_dir() or not (os.path.realpath(start) + os.sep).startswith(real_root + os.sep):
        return
    yield from _scan(start, f"{folder}/" if folder else "", leaf, one_level)


def _scan(path: Path, base: str, leaf: str, one_level: bool) -> Iterator[tuple[str, bool]]:
    try:
        entries = list(os.scandir(path))
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        if not entry.name.startswith(leaf):
            continue
        name = base + entry.name
        if entry.is_dir(follow_symlinks=False):
            if one_level:
                yield name + "/", True
                continue
            inner = list(_scan(Path(entry.path), name + "/", "", False))
            # An empty folder is a placeholder object `name/`, as `mkdir` through gcsfs leaves it.
            yield from inner if inner else [(name + "/", False)]
        elif entry.is_file(follow_symlinks=False):
            yield name, False


def _in_range(name: str, query: ListQuery) -> bool:
    if query.start_offset and name < query.start_offset:
        return False
    return not (query.end_offset and name >= query.end_offset)


def _stat(buckets: LocalBuckets, bucket: str, name: str) -> ObjectInfo | None:
    try:
        return buckets.stat(bucket, name)
    except Exception:  # removed between the walk and the stat: not listed, as on GCS
        return None


def _glob_regex(glob: str) -> re.Pattern[str]:
    """Cloud Storage's matchGlob: ** crosses '/', * and ? do not, [..] and {a,b} as usual."""
    out, i = [], 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = glob.find("]", i + 1)
            if end < 0:
                raise InvalidRequest(f"Invalid matchGlob: {glob}")
            out.append("[" + glob[i + 1 : end].replace("!", "^", 1) + "]")
            i = end
        elif c == "{":
            end = glob.find("}", i + 1)
            if end < 0:
                raise InvalidRequest(f"Invalid matchGlob: {glob}")
            out.append("(?:" + "|".join(re.escape(p) for p in glob[i + 1 : end].split(",")) + ")")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out))


def _is_empty(folder: Path) -> bool:
    with os.scandir(folder) as entries:  # closed after the first entry, not left to the GC
        return next(entries, None) is None
