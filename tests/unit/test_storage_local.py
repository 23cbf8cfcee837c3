"""Local buckets without a server: names, the /gcs rewrite, listings, uploads' wire details."""

from __future__ import annotations

from pathlib import Path

import pytest

from customjobs.storage.errors import Conflict, InvalidRequest, PreconditionFailed
from customjobs.storage.listing import ListQuery, list_objects
from customjobs.storage.names import check_bucket, object_path, rewrite_gcs_mount
from customjobs.storage.objects import Expected, LocalBuckets
from customjobs.storage.uploads import ChunkRange, ResumableUploads, Session, parse_content_range
from customjobs.wire.storage import parse_multipart


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/etc/passwd", "a\0b", "a//b", ".", "a/./b", "x\nb"])
def test_object_names_that_are_not_one_path_inside_the_bucket_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidRequest):
        object_path(tmp_path, "bucket", name)


def test_a_symlink_out_of_the_bucket_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bucket").mkdir()
    (tmp_path / "bucket" / "escape").symlink_to(tmp_path.parent)
    with pytest.raises(InvalidRequest, match="outside the bucket"):
        object_path(tmp_path, "bucket", "escape/secret")


@pytest.mark.parametrize("name", ["ab", "Upper", "-x-", "a..b", "a/b", ".meta", "goog-bucket", "x" * 64])
def test_bucket_names_follow_cloud_storage_rules(name: str) -> None:
    with pytest.raises(InvalidRequest):
        check_bucket(name)


def test_gcs_mount_paths_are_rewritten_where_a_path_starts(tmp_path: Path) -> None:
    root = tmp_path / "buckets"
    command = "pip3 install --user /gcs/staging/p.tar.gz && ls /data/gcs/x a/gcs/y --out=/gcs/out/m"
    assert rewrite_gcs_mount(command, root) == (
        f"pip3 install --user {root}/staging/p.tar.gz && ls /data/gcs/x a/gcs/y --out={root}/out/m"
    )


def _names(buckets: LocalBuckets, **query: object) -> tuple[list[str], list[str], str | None]:
    listing = list_objects(buckets, "bkt", ListQuery(**query))  # type: ignore[arg-type]
    return [i.name for i in listing.items], listing.prefixes, listing.next_after


def test_listing_with_prefix_delimiter_and_pages(tmp_path: Path) -> None:
    buckets = LocalBuckets(tmp_path)
    for name in ("a/1", "a/2", "a/b/3", "ab", "c", "empty/"):
        buckets.put_bytes("bkt", name, b"" if name.endswith("/") else b"x")
    assert _names(buckets) == (["a/1", "a/2", "a/b/3", "ab", "c", "empty/"], [], None)
    assert _names(buckets, delimiter="/") == (["ab", "c"], ["a/", "empty/"], None)
    assert _names(buckets, prefix="a/", delimiter="/") == (["a/1", "a/2"], ["a/b/"], None)
    assert _names(buckets, prefix="a", delimiter="/") == (["ab"], ["a/"], None)
    assert _names(buckets, delimiter="b") == (["a/1", "a/2", "c", "empty/"], ["a/b", "ab"], None)
    assert _names(buckets, max_results=2) == (["a/1", "a/2"], [], "a/2")
    assert _names(buckets, max_results=2, after="a/2") == (["a/b/3", "ab"], [], "ab")
    assert _names(buckets, start_offset="a/2", end_offset="c") == (["a/2", "a/b/3", "ab"], [], None)
    assert _names(buckets, match_glob="a/**") == (["a/1", "a/2", "a/b/3"], [], None)
    assert _names(buckets, match_glob="a/*") == (["a/1", "a/2"], [], None)


def test_objects_and_folders_cannot_share_a_name_on_disk(tmp_path: Path) -> None:
    buckets = LocalBuckets(tmp_path)
    buckets.put_bytes("bkt", "x/y", b"1")
    with pytest.raises(Conflict):
        buckets.put_bytes("bkt", "x", b"2")
    with pytest.raises(Conflict):
        buckets.put_bytes("bkt", "x/y/z", b"3")


def test_preconditions_and_generations(tmp_path: Path) -> None:
    buckets = LocalBuckets(tmp_path)
    first = buckets.put_bytes("bkt", "o", b"1")
    temp = buckets.temp_file()
    with pytest.raises(PreconditionFailed):
        buckets.commit("bkt", "o", temp, expected=Expected(if_generation_match=0))
    temp = buckets.temp_file()
    temp.write_bytes(b"2")
    second = buckets.commit("bkt", "o", temp, expected=Expected(if_generation_match=first.generation))
    assert second.generation > first.generation
    (tmp_path / "bkt" / "o").write_bytes(b"changed on disk")
    assert buckets.stat("bkt", "o").size == len(b"changed on disk")  # the stale sidecar is rebuilt


def test_resumable_upload_resends_and_finishes(tmp_path: Path) -> None:
    uploads = ResumableUploads(LocalBuckets(tmp_path))
    upload_id = uploads.start(Session("bkt", "big"))
    assert uploads.put(upload_id, [b"abcd"], ChunkRange(0, 3, None)) == 4
    assert uploads.put(upload_id, [b"cdef"], ChunkRange(2, 5, None)) == 6  # a resend overlaps
    assert uploads.put(upload_id, [b"zz"], ChunkRange(9, 10, None)) == 6  # a gap is not written
    done = uploads.put(upload_id, [b"gh"], ChunkRange(6, 7, 8))
    assert not isinstance(done, int) and done.size == 8
    assert (tmp_path / "bkt" / "big").read_bytes() == b"abcdefgh"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes 0-9/*", ChunkRange(0, 9, None)),
        ("bytes 10-19/20", ChunkRange(10, 19, 20)),
        ("bytes */20", ChunkRange(None, None, 20)),
        ("bytes */*", ChunkRange(None, None, None)),
    ],
)
def test_content_range(header: str, expected: ChunkRange) -> None:
    assert parse_content_range(header) == expected


@pytest.mark.parametrize("newline", [b"\r\n", b"\n"])
def test_multipart_body_with_crlf_or_lf(newline: bytes) -> None:
    media = b"data ending in CR\r"
    body = newline.join(
        [
            b"--XX",
            b"Content-Type: application/json",
            b"",
            b'{"name": "o", "contentType": "text/plain"}',
            b"--XX",
            b"Content-Type: text/plain",
            b"",
            media,
            b"--XX--",
        ]
    )
    meta, media_type, data = parse_multipart(body, 'multipart/related; boundary="XX"')
    assert meta["name"] == "o" and media_type == "text/plain" and data == media
