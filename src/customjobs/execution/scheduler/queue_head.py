"""The QUEUED jobs in the queue's order, a page at a time, so a pass reads only the head.

The order is the scheduler's (admission.Candidate.order): priority, higher first, then
create time and id. On the SQL store each page is one range scan of the index
`ix_custom_jobs_queue (state, priority, create_us, id)`: the pages walk one priority at a
time (`max(priority) ... WHERE state = 'QUEUED' AND priority < p` finds the next one from
the same index), by keyset on (create_us, id) within it, since a single ORDER BY
`priority DESC, create_us ASC` is not the index's order and would sort the whole queue
before the first row.

The Store protocol has no such read yet: on the SQL store this module runs the query on
the store's own engine and tables; any other store falls back to reading every QUEUED job
once and paging that list.
"""

from __future__ import annotations

from collections.abc import Generator

from sqlalchemy import func, select, tuple_

from customjobs.domain.job import Job
from customjobs.domain.states import JobState
from customjobs.store.base import Store
from customjobs.store.sql.store import SqlStore
from customjobs.store.sql.tables import custom_jobs

_QUEUED = JobState.QUEUED.value


def queue_order(job: Job) -> tuple[int, int, int]:
    """admission.Candidate.order for a job: where it stands in the queue."""
    return (-job.priority, job.create_us, job.id)


def queued_pages(store: Store, first_rows: int, most_rows: int) -> Generator[list[Job], None, None]:
    """Every QUEUED job in queue order, a page at a time; stop iterating to read no more.

    Pages start at `first_rows` (a pass on a full machine reads one page) and double up
    to `most_rows` (a pass that reads the whole queue)."""
    if not isinstance(store, SqlStore):
        jobs = sorted(store.jobs_in_states(frozenset({JobState.QUEUED})), key=queue_order)
        for start in range(0, len(jobs), most_rows):
            yield jobs[start : start + most_rows]
        return
    yield from _sql_pages(store, first_rows, most_rows)


def _sql_pages(store: SqlStore, first_rows: int, most_rows: int) -> Generator[list[Job], None, None]:
    c = custom_jobs.c
    queued = c.state == _QUEUED
    priority: int | None = _top_priority(store, None)
    after: tuple[int, int] | None = None
    page_rows = first_rows
    while priority is not None:
        query = select(custom_jobs).where(queued, c.priority == priority)
        if after is not None:
            query = query.where(tuple_(c.create_us, c.id) > tuple_(*after))
        query = query.order_by(c.create_us, c.id).limit(page_rows)
        # One short connection per page: a pass that stops early leaves nothing open.
        with store.engine.connect() as conn:
            page = store._with_labels(conn, conn.execute(query).all())
        if page:
            yield page
        if len(page) < page_rows:
            priority, after = _top_priority(store, priority), None
        else:
            after = (page[-1].create_us, page[-1].id)
        page_rows = min(most_rows, page_rows * 2)


def _top_priority(store: SqlStore, below: int | None) -> int | None:
    """The highest priority among QUEUED jobs (below `below` when given): one index probe."""
    c = custom_jobs.c
    query = select(func.max(c.priority)).where(c.state == _QUEUED)
    if below is not None:
        query = query.where(c.priority < below)
    with store.engine.connect() as conn:
        top = conn.execute(query).scalar()
    return None if top is None else int(top)
