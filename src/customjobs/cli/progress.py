"""Waiting for a job to end while showing where it is: a rich spinner on a terminal, plus one
stderr line per state change (the only output when stderr is not a terminal)."""

from __future__ import annotations

import time

from customjobs.cli.http import TERMINAL_STATES, ApiClient, Job, job_state
from customjobs.cli.render import format_duration

POLL_MIN_S = 0.1
POLL_MAX_S = 1.0
POLL_GROWTH = 1.5


def wait_for_end(client: ApiClient, name: str, timeout_s: float | None = None) -> Job | None:
    """The job once it is in a terminal state, or None if `timeout_s` passes first.

    Polls often just after a change and slows down to POLL_MAX_S while nothing happens.
    """
    from rich.console import Console

    console = Console(stderr=True, highlight=False)
    job_id = name.rsplit("/", 1)[-1]
    started = time.monotonic()
    pause_s = POLL_MIN_S
    last_state = ""
    with console.status(f"Waiting for {job_id}") as status:
        while True:
            job = client.get(name)
            state = job_state(job)
            elapsed_s = time.monotonic() - started
            if state != last_state:
                console.print(f"{format_duration(elapsed_s):>7}  {job_id}  {state}", markup=False)
                last_state, pause_s = state, POLL_MIN_S
            if state in TERMINAL_STATES:
                return job
            if timeout_s is not None and elapsed_s >= timeout_s:
                return None
            status.update(f"{job_id}  {state}  {format_duration(elapsed_s)}")
            remaining_s = POLL_MAX_S if timeout_s is None else max(timeout_s - elapsed_s, 0.0)
            time.sleep(min(pause_s, remaining_s))
            pause_s = min(pause_s * POLL_GROWTH, POLL_MAX_S)
