"""How jobs look on stdout: a table (rich on a terminal, plain text in a pipe), JSON or YAML.

JSON and YAML print the job exactly as the server sent it, as `gcloud --format` does.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from customjobs.cli.http import TERMINAL_STATES, Job, job_state
from customjobs.resources.custom_jobs.queue_status import QUEUE_FIELD

HEADERS = ("ID", "DISPLAY NAME", "STATE", "CREATED", "DURATION")
_COLUMN_GAP = "  "
_STATE_PREFIX = "JOB_STATE_"  # tables show SUCCEEDED; JSON and YAML keep the enum name
_FRACTION = re.compile(r"\.(\d+)")


def parse_time(text: str) -> datetime:
    """An RFC 3339 timestamp; fractions beyond microseconds are dropped."""
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def format_duration(seconds: float) -> str:
    """`4.2s`, `3m 05s`, `2h 07m`: short enough for a table column."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


def job_duration(job: Job, now: datetime | None = None) -> str:
    """From start to end, or to now while it runs; `-` before it starts."""
    start = job.get("startTime")
    if not start:
        return "-"
    end = job.get("endTime")
    if end:
        stop = parse_time(end)
    elif job_state(job) in TERMINAL_STATES:
        return "-"
    else:
        stop = now or datetime.now(UTC)
    return format_duration(max((stop - parse_time(start)).total_seconds(), 0.0))


def job_row(job: Job, now: datetime | None = None) -> tuple[str, ...]:
    """One job as the table's columns; times in the local time zone, states without JOB_STATE_."""
    created = job.get("createTime")
    created_text = parse_time(created).astimezone().strftime("%Y-%m-%d %H:%M:%S") if created else "-"
    return (
        str(job.get("name", "")).rsplit("/", 1)[-1],
        str(job.get("displayName", "")),
        job_state(job).removeprefix(_STATE_PREFIX) + queue_position(job),
        created_text,
        job_duration(job, now),
    )


def queue_position(job: Job) -> str:
    """` #3` for a queued job (the server's customjobsQueue member), else nothing."""
    queue = job.get(QUEUE_FIELD)
    return f" #{queue['position']}" if isinstance(queue, dict) and "position" in queue else ""


def queue_rows(
    jobs: Sequence[Job], rows: list[tuple[str, ...]]
) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """The headers and rows, with a WAITING FOR column when some job is queued."""
    if not any(isinstance(job.get(QUEUE_FIELD), dict) for job in jobs):
        return HEADERS, rows
    reasons = [str((job.get(QUEUE_FIELD) or {}).get("reason", "")) for job in jobs]
    return (*HEADERS, "WAITING FOR"), [(*row, reason) for row, reason in zip(rows, reasons, strict=True)]


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns two spaces apart, like gcloud's tables; no trailing spaces."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = [
        _COLUMN_GAP.join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (headers, *rows)
    ]
    return "\n".join(lines) + "\n"


def print_jobs_table(jobs: Sequence[Job]) -> None:
    """A rich table on a terminal, plain aligned text otherwise (so pipes and scripts stay simple)."""
    headers, rows = queue_rows(jobs, [job_row(job) for job in jobs])
    if not sys.stdout.isatty():
        sys.stdout.write(plain_table(headers, rows))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for header in headers:
        wraps = header in ("DISPLAY NAME", "WAITING FOR")
        table.add_column(header, no_wrap=not wraps, min_width=len(header) if wraps else None)
    for row in rows:
        table.add_row(*row)
    Console().print(table)


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def to_yaml(value: Any) -> str:
    import yaml

    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=False)


def print_jobs(jobs: Sequence[Job], fmt: str) -> None:
    """Several jobs: a table, a JSON array, or YAML documents separated by `---`."""
    if fmt == "json":
        sys.stdout.write(to_json(list(jobs)))
    elif fmt == "yaml":
        sys.stdout.write("".join(f"---\n{to_yaml(job)}" for job in jobs))
    else:
        print_jobs_table(jobs)


def print_job(job: Job, fmt: str) -> None:
    """One job in the chosen format."""
    if fmt == "json":
        sys.stdout.write(to_json(job))
    elif fmt == "yaml":
        sys.stdout.write(to_yaml(job))
    else:
        print_jobs_table([job])
