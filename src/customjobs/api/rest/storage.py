"""The Cloud Storage JSON API subset that google-cloud-storage and gcsfs use, over local buckets.

A client with STORAGE_EMULATOR_HOST (or gcsfs's endpoint_url) pointed at this server
uploads (media, multipart, resumable), downloads, lists, copies and deletes objects in
the folders of storage/. A bucket is created by POST /storage/v1/b, or by the first
upload into it. Request bodies are spooled to a file, never held whole in memory,
except a multipart upload's (a small object by the clients' own rule).

With authentication on, every route checks the caller's role in the bucket's project
(storage_auth.py); objects an encrypted job wrote are opened on download (kms/outputs.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from starlette.concurrency import iterate_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from customjobs.api.rest.common import call
from customjobs.api.rest.storage_auth import StorageGuard
from customjobs.api.rest.storage_common import guarded, int_param, json_body
from customjobs.api.rest.storage_uploads import UploadHandlers
from customjobs.kms.outputs import SealedObjects
from customjobs.security import permissions as perm
from customjobs.security.access import AccessControl
from customjobs.storage.errors import InvalidRequest, ObjectNotFound
from customjobs.storage.listing import ListQuery, list_objects
from customjobs.storage.metadata import ObjectInfo
from customjobs.storage.objects import LocalBuckets
from customjobs.storage.owners import BucketOwners
from customjobs.wire import storage as wire

_COPY_VERBS = ("/rewriteTo/b/", "/copyTo/b/")


class StorageHandlers:
    def __init__(
        self, buckets: LocalBuckets, guard: StorageGuard, sealed: SealedObjects | None = None
    ) -> None:
        self.buckets = buckets
        self.guard = guard
        self.sealed = sealed

    # buckets -----------------------------------------------------------------------

    async def list_buckets(self, request: Request) -> Response:
        project = await call(self.guard.project, request, perm.BUCKETS_LIST)
        found = [b for b in await call(self.buckets.list_buckets) if self.guard.visible(b.name, project)]
        base = str(request.base_url)
        return JSONResponse(
            {"kind": "storage#buckets", "items": [wire.bucket_resource(b, base) for b in found]}
        )

    async def create_bucket(self, request: Request) -> Response:
        project = await call(self.guard.project, request, perm.BUCKETS_CREATE)
        body = await json_body(request)
        info = await call(self.buckets.create_bucket, str(body.get("name", "")))
        await call(self.guard.created, info.name, project)
        return JSONResponse(wire.bucket_resource(info, str(request.base_url)))

    async def get_bucket(self, request: Request) -> Response:
        info = await call(self.buckets.get_bucket, request.path_params["bucket"])
        return JSONResponse(wire.bucket_resource(info, str(request.base_url)))

    async def delete_bucket(self, request: Request) -> Response:
        await call(self.buckets.delete_bucket, request.path_params["bucket"])
        return Response(status_code=204)

    # objects -----------------------------------------------------------------------

    async def list_objects(self, request: Request) -> Response:
        q = request.query_params
        query = ListQuery(
            prefix=q.get("prefix", ""),
            delimiter=q.get("delimiter", ""),
            start_offset=q.get("startOffset", ""),
            end_offset=q.get("endOffset", ""),
            after=wire.decode_page_token(q.get("pageToken", "")),
            max_results=int_param(q.get("maxResults"), "maxResults") or 0,
            include_trailing_delimiter=q.get("includeTrailingDelimiter", "").lower() == "true",
            match_glob=q.get("matchGlob", ""),
        )
        listing = await call(list_objects, self.buckets, request.path_params["bucket"], query)
        base = str(request.base_url)
        body: dict[str, Any] = {"kind": "storage#objects"}
        if listing.prefixes:
            body["prefixes"] = listing.prefixes
        if listing.items:
            body["items"] = [wire.object_resource(i, base) for i in listing.items]
        if listing.next_after is not None:
            body["nextPageToken"] = wire.encode_page_token(listing.next_after)
        return JSONResponse(body)

    async def get_object(self, request: Request) -> Response:
        if request.query_params.get("alt") == "media":
            return await self.download(request)
        info = await self._stat(request)
        return JSONResponse(wire.object_resource(info, str(request.base_url)))

    async def download(self, request: Request) -> Response:
        info = await self._stat(request)
        path = await call(self.buckets.file, info.bucket, info.name)
        headers = {
            "X-Goog-Hash": wire.hash_header(info),
            "X-Goog-Generation": str(info.generation),
            "X-Goog-Metageneration": "1",
            "X-Goog-Stored-Content-Length": str(info.size),
            "X-Goog-Stored-Content-Encoding": "identity",
            "ETag": wire.etag(info),
        }
        if path is None:
            return Response(b"", media_type=info.content_type, headers=headers)
        chunks = await call(self.sealed.open, info.bucket, info.name, path) if self.sealed else None
        if chunks is not None:
            headers["Content-Length"] = str(info.size)
            return StreamingResponse(
                iterate_in_threadpool(chunks), media_type=info.content_type, headers=headers
            )
        return FileResponse(path, media_type=info.content_type, headers=headers)

    async def delete_object(self, request: Request) -> Response:
        bucket, name = request.path_params["bucket"], request.path_params["object"]
        match = int_param(request.query_params.get("ifGenerationMatch"), "ifGenerationMatch")
        await call(self.buckets.delete, bucket, name, match)
        return Response(status_code=204)

    async def copy_object(self, request: Request) -> Response:
        """POST .../o/SRC/rewriteTo/b/DST_BUCKET/o/DST (and copyTo): gcsfs's cp and mv."""
        bucket, rest = request.path_params["bucket"], request.path_params["object"]
        verb = next((v for v in _COPY_VERBS if v in rest), None)
        if verb is None:
            raise InvalidRequest(f"Unsupported request: POST {request.url.path}")
        source, _, target = rest.partition(verb)
        target_bucket, _, target_name = target.partition("/o/")
        info = await call(self.buckets.stat, bucket, source)
        temp = await call(self.buckets.temp_file)
        src = await call(self.buckets.file, bucket, source)
        if src is not None:
            await call(self._copy_readable, bucket, source, src, temp)
        body = await json_body(request)
        copied = await call(
            self.buckets.commit,
            target_bucket,
            target_name,
            temp,
            body.get("contentType") or info.content_type,
            body.get("metadata") or info.metadata,
        )
        resource = wire.object_resource(copied, str(request.base_url))
        if verb == "/copyTo/b/":
            return JSONResponse(resource)
        size = str(copied.size)
        return JSONResponse(
            {
                "kind": "storage#rewriteResponse",
                "totalBytesRewritten": size,
                "objectSize": size,
                "done": True,
                "resource": resource,
            }
        )

    def _copy_readable(self, bucket: str, name: str, src: Path, temp: Path) -> None:
        """The object's bytes as a reader gets them: a sealed object is copied in plaintext."""
        chunks = self.sealed.open(bucket, name, src) if self.sealed else None
        if chunks is None:
            shutil.copyfile(src, temp)
            return
        with open(temp, "wb") as out:
            for chunk in chunks:
                out.write(chunk)

    async def _stat(self, request: Request) -> ObjectInfo:
        bucket, name = request.path_params["bucket"], request.path_params["object"]
        info = await call(self.buckets.stat, bucket, name)
        generation = int_param(request.query_params.get("generation"), "generation")
        if generation is not None and generation != info.generation:
            raise ObjectNotFound(bucket, name)  # a local bucket keeps the live generation only
        return info


def storage_routes(
    buckets_dir: Path, access: AccessControl | None = None, sealed: SealedObjects | None = None
) -> list[Route]:
    buckets = LocalBuckets(buckets_dir)
    guard = StorageGuard(access or AccessControl(), BucketOwners(buckets_dir))
    h, up = StorageHandlers(buckets, guard, sealed), UploadHandlers(buckets)
    checked = guard.checked
    obj = "/storage/v1/b/{bucket}/o/{object:path}"
    return [
        Route("/storage/v1/b", guarded(h.list_buckets), methods=["GET"]),
        Route("/storage/v1/b", guarded(h.create_bucket), methods=["POST"]),
        Route("/storage/v1/b/{bucket}", guarded(checked(perm.BUCKETS_GET, h.get_bucket)), methods=["GET"]),
        Route(
            "/storage/v1/b/{bucket}",
            guarded(checked(perm.BUCKETS_DELETE, guard.releasing(h.delete_bucket))),
            methods=["DELETE"],
        ),
        Route(
            "/storage/v1/b/{bucket}/o", guarded(checked(perm.OBJECTS_LIST, h.list_objects)), methods=["GET"]
        ),
        Route(obj, guarded(checked(perm.OBJECTS_GET, h.get_object)), methods=["GET"]),
        Route(obj, guarded(checked(perm.OBJECTS_DELETE, h.delete_object)), methods=["DELETE"]),
        Route(obj, guarded(guard.checked_copy(h.copy_object)), methods=["POST"]),
        Route("/download" + obj, guarded(checked(perm.OBJECTS_GET, h.download)), methods=["GET"]),
        Route(
            "/upload/storage/v1/b/{bucket}/o",
            guarded(checked(perm.OBJECTS_CREATE, up.upload)),
            methods=["POST", "PUT", "DELETE"],
        ),
    ]
