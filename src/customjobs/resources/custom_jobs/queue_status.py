"""A queued job's reason and position on the REST wire, where Vertex clients ignore it.

The CustomJob message has no field for it, so REST responses carry it as one extra
top-level member of the job's JSON, `customjobsQueue`; the official clients parse with
ignore_unknown_fields and never see it, while curl, `gcloud --format=json` and
`customjobs jobs describe/list` show it. gRPC answers cannot carry it.
"""

from __future__ import annotations

from typing import Any

from customjobs.domain.placement import QueueStatus

QUEUE_FIELD = "customjobsQueue"
QUEUED = "JOB_STATE_QUEUED"


def queued_names(jobs: list[dict[str, Any]]) -> list[str]:
    """The names of the QUEUED jobs among REST job dicts."""
    return [str(job["name"]) for job in jobs if job.get("state") == QUEUED and job.get("name")]


def add_queue_status(jobs: list[dict[str, Any]], statuses: dict[str, QueueStatus]) -> None:
    for job in jobs:
        status = statuses.get(str(job.get("name", "")))
        if status is not None:
            job[QUEUE_FIELD] = {"reason": status.reason, "position": status.position}
