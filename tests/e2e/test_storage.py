"""Local buckets through the real clients: google-cloud-storage (STORAGE_EMULATOR_HOST) and gcsfs.

Both clients are pointed at a real `customjobs serve`; what they upload must be a plain
file under DATA_DIR/buckets, and a file written there must be an object they can read.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator

import pytest
import requests
from gcsfs.core import GCSFileSystem  # the JSON-API filesystem (see process_setup.py on gcsfs's default)
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from support.server import ServerProcess

# Over google-cloud-storage's 8 MiB multipart limit, so the upload is resumable, in 1 MiB chunks.
BIG_BYTES = 10 * 1024 * 1024 + 123
CHUNK_BYTES = 1024 * 1024


@pytest.fixture
def client(server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> storage.Client:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", server.url)
    return storage.Client(project="test-project", credentials=AnonymousCredentials())


@pytest.fixture
def fs(server: ServerProcess) -> Iterator[GCSFileSystem]:
    GCSFileSystem.clear_instance_cache()
    yield GCSFileSystem(endpoint_url=server.url, token="anon", project="test-project")
    GCSFileSystem.clear_instance_cache()


def test_upload_download_list_delete_with_google_cloud_storage(
    client: storage.Client, server: ServerProcess
) -> None:
    bucket = client.create_bucket("gcs-basic")
    assert client.get_bucket("gcs-basic").name == "gcs-basic"
    for name in ("data/a.txt", "data/b.txt", "data/sub/c.txt", "top.txt"):
        bucket.blob(name).upload_from_string(name.encode(), content_type="text/plain")

    blob = bucket.get_blob("data/a.txt")
    assert blob is not None
    assert blob.size == len(b"data/a.txt") and blob.content_type == "text/plain"
    assert blob.md5_hash == base64.b64encode(hashlib.md5(b"data/a.txt").digest()).decode()
    assert blob.crc32c and blob.generation
    assert blob.download_as_bytes() == b"data/a.txt"
    assert (server.data_dir / "buckets" / "gcs-basic" / "data" / "a.txt").read_bytes() == b"data/a.txt"

    top = client.list_blobs("gcs-basic", delimiter="/")
    assert [b.name for b in top] == ["top.txt"] and top.prefixes == {"data/"}
    inner = client.list_blobs("gcs-basic", prefix="data/", delimiter="/")
    assert [b.name for b in inner] == ["data/a.txt", "data/b.txt"] and inner.prefixes == {"data/sub/"}
    paged = client.list_blobs("gcs-basic", page_size=2)
    assert [b.name for b in paged] == ["data/a.txt", "data/b.txt", "data/sub/c.txt", "top.txt"]

    bucket.blob("data/sub/c.txt").delete()
    assert not (server.data_dir / "buckets" / "gcs-basic" / "data" / "sub").exists()
    with pytest.raises(exceptions.NotFound, match=r"No such object: gcs-basic/data/sub/c\.txt"):
        bucket.blob("data/sub/c.txt").download_as_bytes()
    with pytest.raises(exceptions.NotFound):
        client.get_bucket("no-such-bucket")
    with pytest.raises(exceptions.Conflict):
        client.create_bucket("gcs-basic")


def test_a_big_file_goes_up_resumable_in_chunks_and_comes_back_whole(client: storage.Client) -> None:
    data = os.urandom(BIG_BYTES)
    blob = client.bucket("gcs-big").blob("big.bin", chunk_size=CHUNK_BYTES)
    blob.upload_from_string(data)  # a bucket that does not exist yet is made by the first upload
    assert blob.size == BIG_BYTES
    again = client.bucket("gcs-big").blob("big.bin")
    assert again.download_as_bytes() == data  # checked against X-Goog-Hash by the client
    assert again.download_as_bytes(start=10, end=19) == data[10:20]
    assert [b.name for b in client.list_buckets() if b.name == "gcs-big"] == ["gcs-big"]


def test_a_file_written_on_disk_is_an_object(client: storage.Client, server: ServerProcess) -> None:
    client.create_bucket("gcs-disk")
    folder = server.data_dir / "buckets" / "gcs-disk" / "model"
    folder.mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"written by a job")
    blob = client.bucket("gcs-disk").get_blob("model/weights.bin")
    assert blob is not None and blob.size == len(b"written by a job")
    assert blob.download_as_bytes() == b"written by a job"


def test_gcsfs_reads_writes_lists_and_removes(fs: GCSFileSystem, server: ServerProcess) -> None:
    fs.mkdir("fs-bucket")
    fs.pipe("fs-bucket/runs/1/metrics.json", b'{"loss": 0.1}')
    fs.pipe("fs-bucket/runs/2/metrics.json", b'{"loss": 0.2}')
    assert fs.cat("fs-bucket/runs/1/metrics.json") == b'{"loss": 0.1}'
    assert fs.ls("fs-bucket/runs") == ["fs-bucket/runs/1", "fs-bucket/runs/2"]
    assert fs.isdir("fs-bucket/runs/1") and not fs.exists("fs-bucket/runs/3")
    assert fs.find("fs-bucket") == ["fs-bucket/runs/1/metrics.json", "fs-bucket/runs/2/metrics.json"]

    data = os.urandom(3 * 1024 * 1024 + 7)
    with fs.open("fs-bucket/big.bin", "wb", block_size=2**18) as f:  # resumable, POSTed chunks
        for start in range(0, len(data), 100_000):
            f.write(data[start : start + 100_000])
    assert fs.info("fs-bucket/big.bin")["size"] == len(data)
    with fs.open("fs-bucket/big.bin", "rb", block_size=2**18) as f:
        f.seek(1000)
        assert f.read(10) == data[1000:1010]
    assert (server.data_dir / "buckets" / "fs-bucket" / "big.bin").read_bytes() == data

    fs.cp("fs-bucket/runs/1/metrics.json", "fs-bucket/best.json")
    assert fs.cat("fs-bucket/best.json") == b'{"loss": 0.1}'
    fs.rm("fs-bucket/runs", recursive=True)
    assert fs.ls("fs-bucket", refresh=True) == ["fs-bucket/best.json", "fs-bucket/big.bin"]
    with pytest.raises(FileNotFoundError):
        fs.cat("fs-bucket/runs/1/metrics.json")


@pytest.mark.parametrize(
    "object_path",
    ["..%2F..%2Fcustomjobs.db", "a%2F..%2F..%2Fx", "%2Fetc%2Fpasswd", "a%00b", "a%2F%2Fb", "."],
)
def test_names_that_would_leave_the_bucket_are_refused(server: ServerProcess, object_path: str) -> None:
    requests.post(f"{server.url}/storage/v1/b", json={"name": "safe-bucket"}, timeout=10)
    got = requests.get(f"{server.url}/storage/v1/b/safe-bucket/o/{object_path}", timeout=10)
    assert got.status_code == 400, got.text
    assert got.json()["error"]["errors"][0]["reason"] == "invalid"
    put = requests.post(
        f"{server.url}/upload/storage/v1/b/safe-bucket/o",
        params={"uploadType": "media", "name": requests.utils.unquote(object_path)},
        data=b"x",
        timeout=10,
    )
    assert put.status_code == 400, put.text
    assert not (server.data_dir / "x").exists()


def test_errors_come_in_cloud_storage_envelope(server: ServerProcess) -> None:
    got = requests.get(f"{server.url}/storage/v1/b/missing-bucket/o/x", timeout=10)
    assert got.status_code == 404
    error = got.json()["error"]
    assert error["code"] == 404 and error["errors"][0]["reason"] == "notFound"
    bad = requests.post(f"{server.url}/storage/v1/b", json={"name": "Bad_Name!"}, timeout=10)
    assert bad.status_code == 400


def test_media_downloads_on_both_paths_carry_x_goog_hash(server: ServerProcess) -> None:
    up = requests.post(
        f"{server.url}/upload/storage/v1/b/raw-bucket/o",
        params={"uploadType": "media", "name": "dir/raw.txt"},
        data=b"raw bytes",
        headers={"Content-Type": "text/plain"},
        timeout=10,
    )
    assert up.status_code == 200, up.text
    resource = up.json()
    assert resource["size"] == "9" and resource["contentType"] == "text/plain"
    for path in (
        "/storage/v1/b/raw-bucket/o/dir%2Fraw.txt",
        "/download/storage/v1/b/raw-bucket/o/dir%2Fraw.txt",
    ):
        got = requests.get(f"{server.url}{path}", params={"alt": "media"}, timeout=10)
        assert got.content == b"raw bytes"
        assert got.headers["X-Goog-Hash"] == f"crc32c={resource['crc32c']},md5={resource['md5Hash']}"
