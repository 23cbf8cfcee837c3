"""A job's replica logs as Cloud Logging entries, the way Vertex writes them.

gcloud's `ai custom-jobs stream-logs` reads these through entries:list; it sorts and
de-duplicates by (timestamp, insertId) compared as strings, so both have fixed widths.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from customjobs.execution.logs.files import PLAIN_FILES, ByteSource, LogLayout, read_lines_with_offsets
from customjobs.execution.logs.index import timeline

RESOURCE_TYPE = "ml_job"


@dataclass(frozen=True)
class LogEntry:
    job_id: int
    project: str
    replica: str
    attempt: int
    offset: int
    time_us: int
    text: str

    @property
    def timestamp(self) -> str:
        moment = datetime.fromtimestamp(self.time_us / 1e6, UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.time_us % 1_000_000:06d}Z"

    @property
    def insert_id(self) -> str:
        # Fixed width: string order is (attempt, replica, offset) order.
        return f"{self.attempt:04d}-{self.replica:<16}-{self.offset:016d}".replace(" ", "_")

    def to_json(self) -> dict[str, Any]:
        return {
            "logName": f"projects/{self.project}/logs/{self.replica}",
            "resource": {
                "type": RESOURCE_TYPE,
                "labels": {"job_id": str(self.job_id), "project_id": self.project, "task_name": self.replica},
            },
            "labels": {"ml.googleapis.com/task_name": self.replica},
            "timestamp": self.timestamp,
            "receiveTimestamp": self.timestamp,
            "insertId": self.insert_id,
            "severity": "INFO",
            "textPayload": self.text,
        }


def job_entries(
    layout: LogLayout, job_id: int, project: str, fallback_us: int, source: ByteSource = PLAIN_FILES
) -> Iterator[LogEntry]:
    """Every line of every replica log of the job, with the time it was first seen."""
    for name, path in layout.replica_logs(job_id):
        attempt = int(path.parent.name.split("-")[1])
        times = timeline(path, fallback_us)
        for offset, text in read_lines_with_offsets(path, source):
            yield LogEntry(job_id, project, name, attempt, offset, times.time_of(offset), text)
