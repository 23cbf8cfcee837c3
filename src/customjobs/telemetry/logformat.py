"""Server log output: plain text for people, or one JSON object per line for log pipelines.

`--log-format json` gives every line a time, level, logger and message, and `job` (the
full resource name) and `attempt` on every line written while handling one job.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from customjobs.telemetry.context import JobContextFilter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        job = getattr(record, "job", None)
        if job is not None:
            entry["job"] = job
            attempt = getattr(record, "attempt", None)
            if attempt is not None:
                entry["attempt"] = attempt
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str, fmt: str) -> None:
    """One stderr handler on the root logger, with the job context on every record."""
    handler = logging.StreamHandler()
    handler.addFilter(JobContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
