"""Uploads through the Cloud Storage JSON API: media, multipart, and resumable sessions.

POST /upload/storage/v1/b/B/o?uploadType=media|multipart|resumable starts one; a
resumable session's chunks come as PUT (google-cloud-storage) or POST (gcsfs) to the
session URL this returns in `Location`, each with a Content-Range, and get 308 with the
committed `Range` until the last one, which gets the object. A bucket that does not
exist yet is created by the first upload into it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from customjobs.api.rest.common import call
from customjobs.api.rest.storage_common import int_param, json_body, name_param, read_chunks, spool
from customjobs.storage.errors import InvalidRequest
from customjobs.storage.metadata import ObjectInfo
from customjobs.storage.objects import Expected, LocalBuckets
from customjobs.storage.uploads import ResumableUploads, Session, parse_content_range
from customjobs.wire import storage as wire


class UploadHandlers:
    def __init__(self, buckets: LocalBuckets) -> None:
        self.buckets = buckets
        self.uploads = ResumableUploads(buckets)

    async def upload(self, request: Request) -> Response:
        """POST /upload/storage/v1/b/B/o?uploadType=media|multipart|resumable; PUT/POST/DELETE
        with upload_id: a resumable session's chunks, or its cancellation."""
        q = request.query_params
        bucket = request.path_params["bucket"]
        upload_id = q.get("upload_id")
        if upload_id is not None:
            if request.method == "DELETE":
                await call(self.uploads.cancel, upload_id)
                return Response(status_code=499)
            return await self._chunk(request, upload_id)
        kind = q.get("uploadType", "")
        expected = Expected(if_generation_match=int_param(q.get("ifGenerationMatch"), "ifGenerationMatch"))
        if kind == "media":
            temp = await spool(request, self.buckets)
            content_type = request.headers.get("content-type")
            info = await call(
                self.buckets.commit, bucket, name_param(q.get("name")), temp, content_type, None, expected
            )
        elif kind == "multipart":
            body = await request.body()
            meta, media_type, data = wire.parse_multipart(body, request.headers.get("content-type", ""))
            expected = Expected(expected.if_generation_match, meta.get("md5Hash"), meta.get("crc32c"))
            temp = await call(self.buckets.temp_file)
            await call(temp.write_bytes, data)
            content_type = meta.get("contentType") or media_type
            name = name_param(meta.get("name") or q.get("name"))
            info = await call(
                self.buckets.commit, bucket, name, temp, content_type, meta.get("metadata"), expected
            )
        elif kind == "resumable":
            meta = await json_body(request)
            session = Session(
                bucket=bucket,
                name=name_param(meta.get("name") or q.get("name")),
                content_type=meta.get("contentType") or request.headers.get("x-upload-content-type"),
                metadata=meta.get("metadata") or {},
                if_generation_match=expected.if_generation_match,
                md5=meta.get("md5Hash"),
                crc32c=meta.get("crc32c"),
            )
            upload_id = await call(self.uploads.start, session)
            location = (
                f"{request.base_url}upload/storage/v1/b/{bucket}/o?uploadType=resumable&upload_id={upload_id}"
            )
            return Response(status_code=200, headers={"Location": location})
        else:
            raise InvalidRequest(f"uploadType must be media, multipart or resumable, not {kind!r}.")
        return JSONResponse(wire.object_resource(info, str(request.base_url)))

    async def _chunk(self, request: Request, upload_id: str) -> Response:
        span = parse_content_range(request.headers.get("content-range"))
        temp = await spool(request, self.buckets)
        try:
            result = await call(self.uploads.put, upload_id, read_chunks(temp), span)
        finally:
            temp.unlink(missing_ok=True)
        if isinstance(result, ObjectInfo):
            return JSONResponse(wire.object_resource(result, str(request.base_url)))
        # 308 "Resume Incomplete", with the bytes committed so far (none: no Range).
        headers = {"Range": f"bytes=0-{result - 1}"} if result else {}
        return Response(status_code=308, headers=headers)
