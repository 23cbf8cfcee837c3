"""A small typed client of the server's REST API: Vertex's customJobs paths plus our log stream.

It speaks plain JSON over httpx and knows nothing of the server's internals. Every
error comes back as an `ApiError` carrying the Google envelope's status and message,
or a `CommandError` when the server cannot be reached at all.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any

import httpx

from customjobs import __version__
from customjobs.cli.errors import ApiError, CommandError

Job = dict[str, Any]

REQUEST_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 10.0
OPERATION_TIMEOUT_S = 300.0
OPERATION_POLL_MIN_S = 0.05
OPERATION_POLL_MAX_S = 1.0
API_VERSION = "v1"

CUSTOM_JOBS = "customJobs"
_JOB_ID = re.compile(r"^[\w-]+$")

# JobState numbers, for a server that answers with enum integers.
_STATE_NAMES = dict(
    enumerate(
        (
            "JOB_STATE_UNSPECIFIED",
            "JOB_STATE_QUEUED",
            "JOB_STATE_PENDING",
            "JOB_STATE_RUNNING",
            "JOB_STATE_SUCCEEDED",
            "JOB_STATE_FAILED",
            "JOB_STATE_CANCELLING",
            "JOB_STATE_CANCELLED",
            "JOB_STATE_PAUSED",
            "JOB_STATE_EXPIRED",
            "JOB_STATE_UPDATING",
            "JOB_STATE_PARTIALLY_SUCCEEDED",
        )
    )
)
SUCCEEDED = "JOB_STATE_SUCCEEDED"
TERMINAL_STATES = frozenset(
    {
        SUCCEEDED,
        "JOB_STATE_FAILED",
        "JOB_STATE_CANCELLED",
        "JOB_STATE_PAUSED",
        "JOB_STATE_EXPIRED",
        "JOB_STATE_PARTIALLY_SUCCEEDED",
    }
)


def job_state(job: Job) -> str:
    """The job's state as its enum name, whether the server sent a name or a number."""
    state = job.get("state", 0)
    if isinstance(state, int):
        return _STATE_NAMES.get(state, str(state))
    return str(state)


def normalise_endpoint(endpoint: str) -> str:
    """`host:port`, `http://host:port` or gcloud's `http://host:port/`, as a base URL without `/`."""
    endpoint = endpoint.strip()
    if "://" not in endpoint:
        endpoint = "http://" + endpoint
    return endpoint.rstrip("/")


def _api_error(response: httpx.Response) -> ApiError:
    """The Google error envelope of a failed response, or the HTTP status when there is none."""
    try:
        error = response.json().get("error")
    except ValueError:
        error = None
    if isinstance(error, dict) and error.get("message"):
        status = str(error.get("status") or f"HTTP {response.status_code}")
        return ApiError(status, str(error["message"]), response.status_code)
    text = response.text.strip()[:200] or response.reason_phrase
    return ApiError(f"HTTP {response.status_code}", text, response.status_code)


class ApiClient:
    """Calls to one server for one project and region; a bare job id is resolved against them."""

    def __init__(
        self,
        endpoint: str,
        project: str,
        region: str,
        transport: httpx.BaseTransport | None = None,
        token: str | None = None,
        collection: str = CUSTOM_JOBS,
    ) -> None:
        self.endpoint = normalise_endpoint(endpoint)
        self.parent = f"projects/{project}/locations/{region}"
        # The resource these calls are about: customJobs, or hyperparameterTuningJobs.
        self.collection = collection
        self._full_name = re.compile(rf"^projects/[^/:]+/locations/[^/:]+/{collection}/[^/:]+$")
        headers = {"user-agent": f"customjobs-cli/{__version__}", "accept": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token.strip()}"
        self._http = httpx.Client(
            base_url=self.endpoint,
            timeout=httpx.Timeout(REQUEST_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
            headers=headers,
            transport=transport,
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def job_name(self, ref: str) -> str:
        """A full resource name from a bare id (in this project and region) or a full name."""
        ref = ref.strip()
        if self._full_name.match(ref):
            return ref
        if _JOB_ID.match(ref):
            return f"{self.parent}/{self.collection}/{ref}"
        raise CommandError(
            f"Invalid job [{ref}]: expected an id or projects/PROJECT/locations/REGION/{self.collection}/ID."
        )

    @contextlib.contextmanager
    def _reporting_transport_errors(self) -> Iterator[None]:
        try:
            yield
        except httpx.TimeoutException as err:
            raise CommandError(f"The server at {self.endpoint} did not answer in time ({err}).") from err
        except httpx.TransportError as err:
            raise CommandError(
                f"Cannot reach the server at {self.endpoint}: {err}. Is `customjobs serve` running?"
            ) from err

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        with self._reporting_transport_errors():
            response = self._http.request(method, path, **kwargs)
        if response.is_error:
            raise _api_error(response)
        body = response.json() if response.content else {}
        if not isinstance(body, dict):
            raise CommandError(f"Unexpected answer from {self.endpoint}{path}: {response.text[:200]}")
        return body

    def create(self, job: Job) -> Job:
        return self._call("POST", f"/{API_VERSION}/{self.parent}/{self.collection}", json=job)

    def get(self, name: str) -> Job:
        return self._call("GET", f"/{API_VERSION}/{name}")

    def list(
        self, filter_: str = "", page_size: int | None = None, limit: int | None = None
    ) -> Iterator[Job]:
        """Every job matching the filter, newest first, following nextPageToken; at most `limit`."""
        params: dict[str, str | int] = {}
        if filter_:
            params["filter"] = filter_
        if page_size:
            params["pageSize"] = page_size
        seen = 0
        while True:
            page = self._call("GET", f"/{API_VERSION}/{self.parent}/{self.collection}", params=params)
            for job in page.get(self.collection, []):
                if limit is not None and seen >= limit:
                    return
                seen += 1
                yield job
            token = page.get("nextPageToken")
            if not token or (limit is not None and seen >= limit):
                return
            params["pageToken"] = token

    def upload_model(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST models:upload; the operation it answers (done, with its UploadModelResponse)."""
        return self._call("POST", f"/{API_VERSION}/{self.parent}/models:upload", json=body)

    def cancel(self, name: str) -> None:
        self._call("POST", f"/{API_VERSION}/{name}:cancel", json={})

    def delete(self, name: str) -> dict[str, Any]:
        """DELETE the job, then poll the returned operation until it is done; its error is raised."""
        operation = self._call("DELETE", f"/{API_VERSION}/{name}")
        deadline = time.monotonic() + OPERATION_TIMEOUT_S
        pause_s = OPERATION_POLL_MIN_S
        while not operation.get("done"):
            if time.monotonic() > deadline:
                raise CommandError(
                    f"Operation [{operation.get('name')}] not done after {OPERATION_TIMEOUT_S}s."
                )
            time.sleep(pause_s)
            pause_s = min(pause_s * 2, OPERATION_POLL_MAX_S)
            operation = self._call("GET", f"/{API_VERSION}/{operation['name']}")
        error = operation.get("error")
        if error:
            raise ApiError(str(error.get("status") or error.get("code")), str(error.get("message", "")))
        return operation

    def logs(self, name: str, replica: str | None = None, follow: bool = False) -> Iterator[bytes]:
        """The job's log lines as the server sends them (whole lines); with `follow`, until it ends."""
        params = {"follow": "true" if follow else "false"}
        if replica:
            params["replica"] = replica
        timeout = httpx.Timeout(REQUEST_TIMEOUT_S, connect=CONNECT_TIMEOUT_S, read=None)
        with (
            self._reporting_transport_errors(),
            self._http.stream(
                "GET", f"/customjobs/v1/{name}/logs", params=params, timeout=timeout
            ) as response,
        ):
            if response.is_error:
                response.read()
                raise _api_error(response)
            yield from response.iter_bytes()
