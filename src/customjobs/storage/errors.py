"""Storage errors, each with the HTTP status and `reason` Cloud Storage answers with.

Cloud Storage's JSON API has its own error envelope (a `reason` per error, HTTP codes
such as 412 and 416 that google.rpc has no word for), so these do not go through the
Vertex google.rpc table in wire/status.py.
"""

from __future__ import annotations


class StorageError(Exception):
    http_status = 400
    reason = "invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(StorageError):
    pass


class BucketNotFound(StorageError):
    http_status = 404
    reason = "notFound"

    def __init__(self, bucket: str) -> None:
        super().__init__(f"The specified bucket does not exist: {bucket}")


class ObjectNotFound(StorageError):
    http_status = 404
    reason = "notFound"

    def __init__(self, bucket: str, name: str) -> None:
        super().__init__(f"No such object: {bucket}/{name}")


class UploadNotFound(StorageError):
    http_status = 404
    reason = "notFound"

    def __init__(self, upload_id: str) -> None:
        super().__init__(f"No such upload session: {upload_id}")


class Conflict(StorageError):
    http_status = 409
    reason = "conflict"


class PreconditionFailed(StorageError):
    http_status = 412
    reason = "conditionNotMet"

    def __init__(self) -> None:
        super().__init__("At least one of the pre-conditions you specified did not hold.")
