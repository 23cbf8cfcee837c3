"""Fetching packageUris: local path, file://, http(s):// and gs:// (a local bucket)."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from customjobs.execution.backends.packages.fetch import FetchError, fetch


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_every_kind_of_uri_lands_under_its_own_name(tmp_path: Path, http_root: tuple[Path, str]) -> None:
    www, base = http_root
    (www / "web-0.1.tar.gz").write_bytes(b"web")
    buckets = tmp_path / "buckets"
    (buckets / "pkgs" / "dir").mkdir(parents=True)
    (buckets / "pkgs" / "dir" / "gs-0.1.tar.gz").write_bytes(b"gs")
    local = tmp_path / "local-0.1-py3-none-any.whl"
    local.write_bytes(b"local")
    dest = tmp_path / "dest"
    cases = {
        f"{base}/web-0.1.tar.gz": b"web",
        "gs://pkgs/dir/gs-0.1.tar.gz": b"gs",
        f"file://{local}": b"local",
        str(local): b"local",
    }
    for i, (uri, content) in enumerate(cases.items()):
        got = fetch(uri, dest / str(i), buckets)
        assert got.read_bytes() == content and got.parent == dest / str(i)
        assert got.name == uri.rsplit("/", 1)[1]


@pytest.mark.parametrize("uri", ["gs://pkgs/missing.tar.gz", "gs://pkgs/../x.tar.gz", "/nowhere/x.tar.gz"])
def test_what_cannot_be_fetched_says_which_uri(tmp_path: Path, uri: str) -> None:
    (tmp_path / "buckets" / "pkgs").mkdir(parents=True)
    with pytest.raises(FetchError, match=uri.replace(".", r"\.")):
        fetch(uri, tmp_path / "dest", tmp_path / "buckets")


def test_an_http_error_is_a_fetch_error(tmp_path: Path, http_root: tuple[Path, str]) -> None:
    _, base = http_root
    with pytest.raises(FetchError, match="404"):
        fetch(f"{base}/missing-0.1.tar.gz", tmp_path / "dest", tmp_path / "buckets")
