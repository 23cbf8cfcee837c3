"""A job's state history as JSON, for GET /customjobs/v1/{job}/events (the console's timeline)."""

from __future__ import annotations

from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from customjobs.domain.job import StateEvent


def rfc3339(time_us: int) -> str:
    stamp = Timestamp()
    stamp.FromMicroseconds(time_us)
    return str(stamp.ToJsonString())


def events_body(events: list[StateEvent]) -> dict[str, Any]:
    """{"events": [{"state": "JOB_STATE_RUNNING", "time": RFC 3339, "message": ...}]}, oldest first."""
    rendered = []
    for event in events:
        item = {"state": event.state.value, "time": rfc3339(event.time_us)}
        if event.message:
            item["message"] = event.message
        rendered.append(item)
    return {"events": rendered}
