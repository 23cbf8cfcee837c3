"""The QUEUED jobs in the queue's order, a page at a time, so a pass reads only the head.

The order is the scheduler's (admission.Candidate.order): priority, higher first, then
create time and id. On the SQL store each page is one range scan of the index
`ix_custom_jobs_queue (state, priority, create_us, id)`: the pages walk one priority at a
time (`max(priority) ... WHERE state = 'QUEUED' AND priority < p` finds the next one from
the same index), by keyset on (create_us, id) within it, since a single ORDER BY
`priority DESC, create_us ASC` is not the index's order and would sort the whole queue
before the first row.

The store answers both reads (Store.top_queued_priority, Store.queued_page).
"""

from __future__ import annotations

from collections.abc import Generator

from customjobs.domain.job import Job
from customjobs.store.base import Store


def queue_order(job: Job) -> tuple[int, int, int]:
    """admission.Candidate.order for a job: where it stands in the queue."""
    return (-job.priority, job.create_us, job.id)


def queued_pages(store: Store, first_rows: int, most_rows: int) -> Generator[list[Job], None, None]:
    """Every QUEUED job in queue order, a page at a time; stop iterating to read no more.

    Pages start at `first_rows` (a pass on a full machine reads one page) and double up
    to `most_rows` (a pass that reads the whole queue)."""
    priority = store.top_queued_priority(None)
    after: tuple[int, int] | None = None
    page_rows = first_rows
    while priority is not None:
        page = store.queued_page(priority, after, page_rows)
        if page:
            yield page
        if len(page) < page_rows:
            priority, after = store.top_queued_priority(priority), None
        else:
            after = (page[-1].create_us, page[-1].id)
        page_rows = min(most_rows, page_rows * 2)
