"""The Store protocol's contract: what every implementation must do, on every database.

These tests speak only the protocol (store/base.py), never SQL: a new implementation
passes them or is not a Store.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest

from customjobs.domain.job import Job, NewJob, Operation, Outcome, StateEvent
from customjobs.domain.placement import JobAllocation, ReplicaAllocation
from customjobs.domain.query import And, Compare, Expr, Field, Not, Op
from customjobs.domain.states import ACTIVE, TERMINAL, JobState
from customjobs.store.base import Cursor, StateChange, Store

PROJECT = "my-project"
LOCATION = "us-central1"
# 19-digit ids near 2**63 - 1 = 9223372036854775807, as names.new_id() may hand out.
BIG_ID = 9_223_372_036_854_775_000
T0 = 1_700_000_000_000_000  # microseconds since the epoch

UNICODE_LABELS = {
    "team": "ml",
    "ünïcødé": "値-ü-ß-é",
    "empty": "",
    "k" * 63: "ø" * 63,
}


def new_job(
    display_name: str = "job",
    labels: dict[str, str] | None = None,
    project: str = PROJECT,
    location: str = LOCATION,
) -> NewJob:
    return NewJob(
        project=project,
        location=location,
        display_name=display_name,
        labels=labels or {},
        spec_json='{"jobSpec": {"workerPoolSpecs": []}}',
    )


def add_job(
    store: Store,
    job_id: int,
    state: JobState = JobState.QUEUED,
    create_us: int = T0,
    **new: Any,
) -> Job:
    return store.insert_job(job_id, new_job(**new), state, create_us)


def change(store: Store, job_id: int, expected: JobState, target: JobState, now_us: int, **kw: Any) -> bool:
    """A move as execution/transitions.py makes it: start on RUNNING, end on a terminal state."""
    return store.change_state(
        StateChange(
            job_id=job_id,
            expected=expected,
            target=target,
            now_us=now_us,
            set_start=target is JobState.RUNNING,
            set_end=target in TERMINAL,
            **kw,
        )
    )


def delete_op(job: Job, op_id: int, create_us: int) -> Operation:
    return Operation(
        id=op_id,
        project=job.project,
        location=job.location,
        kind="DeleteCustomJob",
        api_version="v1",
        done=True,
        create_us=create_us,
        update_us=create_us,
        job_id=job.id,
    )


def ids(jobs: list[Job]) -> list[int]:
    return [job.id for job in jobs]


def all_pages(store: Store, limit: int, where: Expr | None = None) -> list[list[Job]]:
    pages: list[list[Job]] = []
    after: Cursor | None = None
    while True:
        page = store.list_jobs(PROJECT, LOCATION, where, limit, after)
        assert len(page) <= limit
        if not page:
            return pages
        pages.append(page)
        after = Cursor(page[-1].create_us, page[-1].id)


# insert / get ------------------------------------------------------------------


def test_insert_then_get_round_trips_every_field(store: Store) -> None:
    new = NewJob(
        project="proj-ü",
        location="europe-west4",
        display_name="トレーニング job ✓",
        labels=UNICODE_LABELS,
        spec_json='{"jobSpec": {"workerPoolSpecs": [{"replicaCount": "1", "x": "ü✓"}]}}',
    )
    inserted = store.insert_job(BIG_ID, new, JobState.QUEUED, T0)
    expected = Job(
        id=BIG_ID,
        project="proj-ü",
        location="europe-west4",
        display_name="トレーニング job ✓",
        state=JobState.QUEUED,
        spec_json=new.spec_json,
        create_us=T0,
        update_us=T0,
        labels=UNICODE_LABELS,
    )
    assert inserted == expected
    assert store.get_job(BIG_ID) == expected


def test_get_round_trips_runtime_fields(store: Store) -> None:
    job_id = BIG_ID + 807 - 1  # 2**63 - 2
    add_job(store, job_id, JobState.PENDING, labels={"a": "b"})
    assert store.update_runtime(
        job_id,
        None,
        attempt=2,
        handle={"pid": 4242, "dirs": ["/tmp/ü"], "nested": {"n": None, "f": 1.5, "ok": True}},
        outcome=Outcome(JobState.FAILED, 13, "replica workerpool0-0 exited with 1 ✗"),
        stop_requested_us=T0 + 5,
        web_access_uris={"workerpool0-0": "http://127.0.0.1:8888/"},
    )
    assert change(store, job_id, JobState.PENDING, JobState.RUNNING, T0 + 10)
    assert change(
        store, job_id, JobState.RUNNING, JobState.FAILED, T0 + 20, error_code=13, error_message="boom ✗"
    )

    assert store.get_job(job_id) == Job(
        id=job_id,
        project=PROJECT,
        location=LOCATION,
        display_name="job",
        state=JobState.FAILED,
        spec_json=new_job().spec_json,
        create_us=T0,
        update_us=T0 + 20,
        labels={"a": "b"},
        start_us=T0 + 10,
        end_us=T0 + 20,
        error_code=13,
        error_message="boom ✗",
        attempt=2,
        handle={"pid": 4242, "dirs": ["/tmp/ü"], "nested": {"n": None, "f": 1.5, "ok": True}},
        outcome=Outcome(JobState.FAILED, 13, "replica workerpool0-0 exited with 1 ✗"),
        stop_requested_us=T0 + 5,
        web_access_uris={"workerpool0-0": "http://127.0.0.1:8888/"},
    )


def test_get_unknown_job_is_none(store: Store) -> None:
    add_job(store, 1)
    assert store.get_job(2) is None
    assert store.get_job(BIG_ID) is None


# change_state -------------------------------------------------------------------


def test_change_state_is_compare_and_set(store: Store) -> None:
    add_job(store, 1, JobState.PENDING)
    assert change(store, 1, JobState.PENDING, JobState.RUNNING, T0 + 10)
    before = store.get_job(1)

    # A second writer that still believes the job is PENDING loses, and writes nothing.
    assert not change(store, 1, JobState.PENDING, JobState.FAILED, T0 + 20, error_code=13, error_message="x")
    assert store.get_job(1) == before
    assert before is not None and before.state is JobState.RUNNING and before.update_us == T0 + 10
    assert [e.state for e in store.events(1)] == [JobState.PENDING, JobState.RUNNING]


def test_change_state_of_unknown_job_is_false(store: Store) -> None:
    assert not change(store, 7, JobState.QUEUED, JobState.PENDING, T0)
    assert store.events(7) == []
    assert store.get_job(7) is None


def test_start_is_set_on_first_running_only(store: Store) -> None:
    add_job(store, 1, JobState.QUEUED)
    assert change(store, 1, JobState.QUEUED, JobState.PENDING, T0 + 1)
    assert _field(store, 1, "start_us") is None

    assert change(store, 1, JobState.PENDING, JobState.RUNNING, T0 + 10)
    assert _field(store, 1, "start_us") == T0 + 10

    # A whole-job retry: RUNNING -> PENDING -> RUNNING keeps the first startTime.
    assert change(store, 1, JobState.RUNNING, JobState.PENDING, T0 + 20)
    assert _field(store, 1, "start_us") == T0 + 10
    assert change(store, 1, JobState.PENDING, JobState.RUNNING, T0 + 30)
    job = store.get_job(1)
    assert job is not None
    assert (job.state, job.start_us, job.update_us, job.end_us) == (JobState.RUNNING, T0 + 10, T0 + 30, None)


def test_terminal_move_sets_end_and_error(store: Store) -> None:
    add_job(store, 1, JobState.RUNNING)
    add_job(store, 2, JobState.RUNNING)

    assert change(
        store, 1, JobState.RUNNING, JobState.FAILED, T0 + 5, error_code=9, error_message="exit code 3"
    )
    assert change(store, 2, JobState.RUNNING, JobState.SUCCEEDED, T0 + 6)

    failed, succeeded = store.get_job(1), store.get_job(2)
    assert failed is not None and succeeded is not None
    assert (failed.state, failed.end_us, failed.update_us) == (JobState.FAILED, T0 + 5, T0 + 5)
    assert (failed.error_code, failed.error_message) == (9, "exit code 3")
    assert (succeeded.state, succeeded.end_us, succeeded.update_us) == (JobState.SUCCEEDED, T0 + 6, T0 + 6)
    assert (succeeded.error_code, succeeded.error_message) == (None, None)


def test_non_terminal_move_leaves_end_unset(store: Store) -> None:
    add_job(store, 1, JobState.RUNNING)
    assert change(store, 1, JobState.RUNNING, JobState.CANCELLING, T0 + 5, message="cancel requested")
    job = store.get_job(1)
    assert job is not None
    assert (job.state, job.end_us, job.update_us) == (JobState.CANCELLING, None, T0 + 5)


def test_events_record_every_applied_move_in_order(store: Store) -> None:
    add_job(store, 1, JobState.QUEUED)
    add_job(store, 2, JobState.QUEUED)  # another job's history stays its own
    moves = [
        (JobState.QUEUED, JobState.PENDING, None),
        (JobState.PENDING, JobState.RUNNING, "replicas started"),
        (JobState.RUNNING, JobState.PENDING, "retry ✓"),
        (JobState.PENDING, JobState.RUNNING, None),
        (JobState.RUNNING, JobState.CANCELLING, "cancel requested"),
        (JobState.CANCELLING, JobState.CANCELLED, None),
    ]
    for step, (expected, target, message) in enumerate(moves, start=1):
        assert change(store, 1, expected, target, T0 + step, message=message)
    assert not change(store, 1, JobState.RUNNING, JobState.FAILED, T0 + 99)  # lost: not recorded
    assert change(store, 2, JobState.QUEUED, JobState.FAILED, T0 + 50)

    assert store.events(1) == [
        StateEvent(JobState.QUEUED, T0, None),
        *(
            StateEvent(target, T0 + step, message)
            for step, (_expected, target, message) in enumerate(moves, start=1)
        ),
    ]
    assert store.events(2) == [
        StateEvent(JobState.QUEUED, T0, None),
        StateEvent(JobState.FAILED, T0 + 50, None),
    ]


def test_concurrent_change_state_has_exactly_one_winner(store: Store) -> None:
    racers = 8
    for job_id in range(1, 6):
        add_job(store, job_id, JobState.PENDING)
        barrier = threading.Barrier(racers)

        def race(n: int, job_id: int = job_id, barrier: threading.Barrier = barrier) -> bool:
            barrier.wait(timeout=10)
            return change(store, job_id, JobState.PENDING, JobState.RUNNING, T0 + n)

        with ThreadPoolExecutor(max_workers=racers) as pool:
            results = list(pool.map(race, range(1, racers + 1)))

        assert results.count(True) == 1, results
        winner_now = T0 + 1 + results.index(True)
        job = store.get_job(job_id)
        assert job is not None
        assert (job.state, job.start_us, job.update_us) == (JobState.RUNNING, winner_now, winner_now)
        assert store.events(job_id) == [
            StateEvent(JobState.PENDING, T0, None),
            StateEvent(JobState.RUNNING, winner_now, None),
        ]


# update_runtime -------------------------------------------------------------------


def test_update_runtime_without_expected_skips_terminal_jobs(store: Store) -> None:
    for job_id, state in enumerate(JobState, start=1):
        add_job(store, job_id, state)

    for job_id, state in enumerate(JobState, start=1):
        applied = store.update_runtime(job_id, None, attempt=3)
        assert applied is (state not in TERMINAL), state
        assert _field(store, job_id, "attempt") == (0 if state in TERMINAL else 3)


def test_update_runtime_with_expected_only_in_that_state(store: Store) -> None:
    add_job(store, 1, JobState.PENDING)
    add_job(store, 2, JobState.RUNNING)

    assert store.update_runtime(1, JobState.PENDING, attempt=1)
    assert not store.update_runtime(2, JobState.PENDING, attempt=1)
    assert (_field(store, 1, "attempt"), _field(store, 2, "attempt")) == (1, 0)

    # A terminal state can be named explicitly.
    assert change(store, 2, JobState.RUNNING, JobState.FAILED, T0 + 1)
    assert store.update_runtime(2, JobState.FAILED, stop_requested_us=T0 + 2)
    assert _field(store, 2, "stop_requested_us") == T0 + 2


def test_update_runtime_of_unknown_job_is_false(store: Store) -> None:
    assert not store.update_runtime(42, None, attempt=1)
    assert not store.update_runtime(42, JobState.RUNNING, attempt=1)


def test_update_runtime_stores_and_clears_fields(store: Store) -> None:
    add_job(store, 1, JobState.RUNNING)
    handle = {"backend": "local", "pids": [11, 12], "root": "/var/lib/cj/ü", "meta": {"gpu": None}}
    outcome = Outcome(JobState.FAILED, 3, "workerpool0-0 failed ✗")
    uris = {"workerpool0-0": "http://127.0.0.1:40001/", "workerpool1-0": "http://127.0.0.1:40002/"}

    assert store.update_runtime(1, None, handle=handle)
    assert store.update_runtime(1, JobState.RUNNING, outcome=outcome, web_access_uris=uris)
    assert store.update_runtime(1, None, stop_requested_us=T0 + 9)
    job = store.get_job(1)
    assert job is not None
    assert (job.handle, job.outcome, job.web_access_uris, job.stop_requested_us) == (
        handle,
        outcome,
        uris,
        T0 + 9,
    )

    # An Outcome without error details (a job that is going to succeed) round-trips too.
    assert store.update_runtime(1, None, outcome=Outcome(JobState.SUCCEEDED))
    assert _field(store, 1, "outcome") == Outcome(JobState.SUCCEEDED)

    # Only the fields named change.
    assert store.update_runtime(1, None, handle=None, outcome=None, web_access_uris=None)
    job = store.get_job(1)
    assert job is not None
    assert (job.handle, job.outcome, job.web_access_uris) == (None, None, {})
    assert job.stop_requested_us == T0 + 9
    assert store.update_runtime(1, None, stop_requested_us=None)
    assert _field(store, 1, "stop_requested_us") is None


def test_update_runtime_rejects_unknown_fields(store: Store) -> None:
    add_job(store, 1, JobState.RUNNING)
    before = store.get_job(1)
    with pytest.raises(ValueError, match="state"):
        store.update_runtime(1, None, state=JobState.SUCCEEDED)
    with pytest.raises(ValueError, match="bogus"):
        store.update_runtime(1, None, attempt=5, bogus=1)
    assert store.get_job(1) == before


# list_jobs ------------------------------------------------------------------------


def test_list_jobs_newest_first_with_id_breaking_ties(store: Store) -> None:
    add_job(store, 10, create_us=T0 + 1)
    add_job(store, 30, create_us=T0 + 2)
    add_job(store, 20, create_us=T0 + 2)
    add_job(store, BIG_ID, create_us=T0)
    add_job(store, 5, create_us=T0 + 3)

    assert ids(store.list_jobs(PROJECT, LOCATION, None, 100, None)) == [5, 30, 20, 10, BIG_ID]
    assert ids(store.list_jobs(PROJECT, LOCATION, None, 2, None)) == [5, 30]


def test_list_jobs_pages_without_gaps_or_repeats(store: Store) -> None:
    # 25 jobs over 8 distinct create times; ids deliberately not in creation order.
    created: dict[int, int] = {}
    for n in range(25):
        job_id = BIG_ID + (n * 37) % 101
        created[job_id] = T0 + n // 4 * 1000 + (7 if n % 5 == 0 else 0)
        add_job(store, job_id, create_us=created[job_id], display_name=f"job-{n}")
    newest_first = sorted(created, key=lambda i: (created[i], i), reverse=True)
    assert len(set(created.values())) < 25  # equal create_us values exist

    for limit in (1, 4, 7, 25, 50):
        pages = all_pages(store, limit)
        assert [len(p) for p in pages[:-1]] == [limit] * (len(pages) - 1)
        assert [job_id for page in pages for job_id in ids(page)] == newest_first, limit


def test_list_jobs_cursor_in_the_middle_of_a_tie(store: Store) -> None:
    for job_id in (1, 2, 3, 4):
        add_job(store, job_id, create_us=T0)
    add_job(store, 5, create_us=T0 - 1)
    assert ids(store.list_jobs(PROJECT, LOCATION, None, 10, Cursor(T0, 3))) == [2, 1, 5]
    assert ids(store.list_jobs(PROJECT, LOCATION, None, 10, Cursor(T0, 1))) == [5]
    assert store.list_jobs(PROJECT, LOCATION, None, 10, Cursor(T0 - 1, 5)) == []


def test_list_jobs_only_for_its_parent(store: Store) -> None:
    add_job(store, 1)
    add_job(store, 2, project="other-project")
    add_job(store, 3, location="europe-west4")
    add_job(store, 4, project="other-project", location="europe-west4")
    add_job(store, 5, create_us=T0 + 1)

    assert ids(store.list_jobs(PROJECT, LOCATION, None, 10, None)) == [5, 1]
    assert ids(store.list_jobs("other-project", LOCATION, None, 10, None)) == [2]
    assert ids(store.list_jobs(PROJECT, "europe-west4", None, 10, None)) == [3]
    assert ids(store.list_jobs("other-project", "europe-west4", None, 10, None)) == [4]
    assert store.list_jobs("nobody", LOCATION, None, 10, None) == []


def test_list_jobs_returns_labels(store: Store) -> None:
    add_job(store, 1, labels=UNICODE_LABELS)
    add_job(store, 2, create_us=T0 + 1)
    listed = store.list_jobs(PROJECT, LOCATION, None, 10, None)
    assert [job.labels for job in listed] == [{}, UNICODE_LABELS]
    assert listed == [store.get_job(2), store.get_job(1)]


@pytest.fixture
def filter_jobs(store: Store) -> Store:
    """Six jobs to filter; job n is created at T0 + n, so lists come back 6..1."""
    jobs = [
        ("alpha", JobState.RUNNING, {"team": "ml", "env": "prod"}),
        ("Alpha", JobState.RUNNING, {"team": "ML"}),
        ("alphabet", JobState.SUCCEEDED, {"team": "infra"}),
        ("beta-a", JobState.FAILED, {"team": "ml"}),
        ("a_b", JobState.QUEUED, {"équipe": "données"}),
        ("b", JobState.RUNNING, {}),
    ]
    for n, (name, state, labels) in enumerate(jobs, start=1):
        add_job(store, n, state, create_us=T0 + n, display_name=name, labels=labels)
    add_job(store, 99, JobState.RUNNING, display_name="alpha", labels={"team": "ml"}, project="elsewhere")
    return store


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        pytest.param(Compare(Field.STATE, Op.EQ, JobState.RUNNING), [6, 2, 1], id="state"),
        pytest.param(Compare(Field.STATE, Op.NE, JobState.RUNNING), [5, 4, 3], id="state-ne"),
        pytest.param(Compare(Field.LABELS, Op.EQ, "ml", label_key="team"), [4, 1], id="label"),
        pytest.param(Compare(Field.LABELS, Op.EQ, "données", label_key="équipe"), [5], id="label-unicode"),
        pytest.param(Compare(Field.LABELS, Op.HAS, None, label_key="team"), [4, 3, 2, 1], id="label-key"),
        pytest.param(Compare(Field.DISPLAY_NAME, Op.EQ, "a*"), [5, 3, 1], id="glob-prefix"),
        pytest.param(Compare(Field.DISPLAY_NAME, Op.EQ, "*a"), [4, 2, 1], id="glob-suffix"),
        pytest.param(Compare(Field.DISPLAY_NAME, Op.EQ, "alpha"), [1], id="exact-case-sensitive"),
        pytest.param(Compare(Field.DISPLAY_NAME, Op.EQ, "A*"), [2], id="glob-case-sensitive"),
        pytest.param(Compare(Field.DISPLAY_NAME, Op.EQ, "ALPHA"), [], id="no-case-folding"),
        pytest.param(Compare(Field.DISPLAY_NAME, Op.EQ, "a_*"), [5], id="underscore-is-literal"),
        pytest.param(
            And(
                (
                    Compare(Field.STATE, Op.EQ, JobState.RUNNING),
                    Not(Compare(Field.LABELS, Op.EQ, "ml", label_key="team")),
                )
            ),
            [6, 2],
            id="and-not",
        ),
    ],
)
def test_list_jobs_applies_filter(filter_jobs: Store, where: Expr, expected: list[int]) -> None:
    assert ids(filter_jobs.list_jobs(PROJECT, LOCATION, where, 100, None)) == expected


def test_list_jobs_filter_and_cursor_combine(filter_jobs: Store) -> None:
    where = Compare(Field.STATE, Op.EQ, JobState.RUNNING)
    first = filter_jobs.list_jobs(PROJECT, LOCATION, where, 2, None)
    assert ids(first) == [6, 2]
    rest = filter_jobs.list_jobs(PROJECT, LOCATION, where, 2, Cursor(first[-1].create_us, first[-1].id))
    assert ids(rest) == [1]


# placing_jobs -----------------------------------------------------------------------


def test_placing_jobs_are_the_queued_jobs_that_hold_an_allocation(store: Store) -> None:
    grant = JobAllocation(1.0, 3.75, (ReplicaAllocation("workerpool0-0", 1.0, 3.75),))
    for job_id in (1, 2, 3):
        add_job(store, job_id, JobState.QUEUED, create_us=T0 + 10 - job_id)
    add_job(store, 4, JobState.PENDING, create_us=T0)
    for job_id in (2, 3, 4):  # 2 and 3 were admitted and wait for their placement; 4 launches
        assert store.update_runtime(job_id, None, allocation=grant)

    assert ids(store.placing_jobs()) == [3, 2]  # oldest first
    assert all(job.allocation == grant for job in store.placing_jobs())
    assert change(store, 3, JobState.QUEUED, JobState.PENDING, T0 + 20)  # placed
    assert ids(store.placing_jobs()) == [2]


# jobs_in_states -------------------------------------------------------------------


def test_jobs_in_states(store: Store) -> None:
    for job_id, state in enumerate(JobState, start=1):
        add_job(
            store, job_id, state, create_us=T0 + job_id, project=f"p{job_id % 2}", labels={"n": str(job_id)}
        )
    by_state = {state: job_id for job_id, state in enumerate(JobState, start=1)}

    active = store.jobs_in_states(ACTIVE)
    assert sorted(ids(active)) == sorted(by_state[s] for s in ACTIVE)
    assert all(job.state in ACTIVE for job in active)
    assert all(job == store.get_job(job.id) for job in active)  # whole jobs, labels included

    assert ids(store.jobs_in_states(frozenset({JobState.CANCELLING}))) == [by_state[JobState.CANCELLING]]
    assert sorted(ids(store.jobs_in_states(TERMINAL))) == sorted(by_state[s] for s in TERMINAL)
    assert store.jobs_in_states(frozenset()) == []

    # A job that moves leaves one set and joins the other.
    queued = by_state[JobState.QUEUED]
    assert change(store, queued, JobState.QUEUED, JobState.FAILED, T0 + 100)
    assert queued not in ids(store.jobs_in_states(ACTIVE))
    assert queued in ids(store.jobs_in_states(TERMINAL))


# delete_job / operations ---------------------------------------------------------


@pytest.mark.parametrize("state", sorted(TERMINAL))
def test_delete_terminal_job_removes_it_and_records_operation(store: Store, state: JobState) -> None:
    job = add_job(store, BIG_ID, JobState.RUNNING, labels=UNICODE_LABELS)
    assert change(store, BIG_ID, JobState.RUNNING, state, T0 + 10, message="done")
    keep = add_job(store, 2, JobState.SUCCEEDED, labels={"keep": "me"})
    op = delete_op(job, BIG_ID + 1, T0 + 20)

    assert store.delete_job(BIG_ID, op, TERMINAL)

    assert store.get_job(BIG_ID) is None
    assert store.events(BIG_ID) == []
    assert store.get_operation(op.id) == op
    assert store.list_jobs(PROJECT, LOCATION, None, 10, None) == [keep]
    assert store.events(2) == [StateEvent(JobState.SUCCEEDED, T0, None)]

    # Nothing of the old job lingers: the id can be used afresh, with no old labels or history.
    again = add_job(store, BIG_ID, JobState.QUEUED, create_us=T0 + 30)
    assert store.get_job(BIG_ID) == again
    assert again.labels == {}
    assert store.events(BIG_ID) == [StateEvent(JobState.QUEUED, T0 + 30, None)]


@pytest.mark.parametrize("state", sorted(ACTIVE))
def test_delete_non_terminal_job_is_refused(store: Store, state: JobState) -> None:
    job = add_job(store, 1, state, labels={"team": "ml"})
    events = store.events(1)
    op = delete_op(job, 500, T0 + 20)

    assert not store.delete_job(1, op, TERMINAL)

    assert store.get_job(1) == job  # labels and all
    assert store.events(1) == events
    assert store.get_operation(op.id) is None
    assert store.list_operations(PROJECT, LOCATION, None, 10, None) == []


def test_delete_unknown_job_is_false(store: Store) -> None:
    job = add_job(store, 1, JobState.SUCCEEDED)
    op = delete_op(replace(job, id=2), 500, T0)
    assert not store.delete_job(2, op, TERMINAL)
    assert store.get_operation(500) is None
    assert store.get_job(1) == job


def test_delete_honours_the_terminal_set_it_is_given(store: Store) -> None:
    job = add_job(store, 1, JobState.FAILED)
    assert not store.delete_job(1, delete_op(job, 500, T0), frozenset({JobState.SUCCEEDED}))
    assert store.get_job(1) == job
    assert store.delete_job(1, delete_op(job, 500, T0), frozenset({JobState.FAILED}))
    assert store.get_job(1) is None


def test_get_operation_round_trips_every_field(store: Store) -> None:
    job = add_job(store, BIG_ID, JobState.FAILED)
    op = Operation(
        id=BIG_ID + 7,
        project=PROJECT,
        location=LOCATION,
        kind="DeleteCustomJob",
        api_version="v1beta1",
        done=False,
        create_us=T0 + 1,
        update_us=T0 + 2,
        job_id=job.id,
        error_code=14,
        error_message="unavailable ✗",
    )
    assert store.delete_job(job.id, op, TERMINAL)
    assert store.get_operation(op.id) == op
    assert store.get_operation(op.id + 1) is None


def _delete_jobs_recording_operations(store: Store, create_times: dict[int, int]) -> None:
    for n, (op_id, create_us) in enumerate(create_times.items()):
        job = add_job(store, n + 1, JobState.SUCCEEDED)
        assert store.delete_job(job.id, delete_op(job, op_id, create_us), TERMINAL)


def test_list_operations_pages_newest_first(store: Store) -> None:
    # 11 operations over 5 create times, ids not in creation order.
    create_times = {BIG_ID + (n * 7) % 13: T0 + n // 3 for n in range(11)}
    _delete_jobs_recording_operations(store, create_times)
    other = add_job(store, 100, JobState.CANCELLED, project="other-project")
    assert store.delete_job(other.id, delete_op(other, 1, T0 + 1000), TERMINAL)
    newest_first = sorted(create_times, key=lambda i: (create_times[i], i), reverse=True)

    assert [op.id for op in store.list_operations(PROJECT, LOCATION, None, 100, None)] == newest_first
    assert [op.id for op in store.list_operations("other-project", LOCATION, None, 100, None)] == [1]
    assert store.list_operations(PROJECT, "europe-west4", None, 100, None) == []

    for limit in (1, 3, 4, 11):
        seen: list[int] = []
        after: Cursor | None = None
        while page := store.list_operations(PROJECT, LOCATION, None, limit, after):
            assert len(page) <= limit
            seen += [op.id for op in page]
            after = Cursor(page[-1].create_us, page[-1].id)
        assert seen == newest_first, limit


def test_list_operations_of_one_job(store: Store) -> None:
    # Two delete operations for job id 1 (the id was reused after the first delete), one for job 2.
    for op_id, create_us in ((10, T0), (11, T0 + 1)):
        job = add_job(store, 1, JobState.SUCCEEDED, create_us=create_us)
        assert store.delete_job(1, delete_op(job, op_id, create_us), TERMINAL)
    job = add_job(store, 2, JobState.FAILED)
    assert store.delete_job(2, delete_op(job, 12, T0 + 2), TERMINAL)

    assert [op.id for op in store.list_operations(PROJECT, LOCATION, 1, 10, None)] == [11, 10]
    assert [op.id for op in store.list_operations(PROJECT, LOCATION, 1, 1, Cursor(T0 + 1, 11))] == [10]
    assert [op.id for op in store.list_operations(PROJECT, LOCATION, 2, 10, None)] == [12]
    assert store.list_operations(PROJECT, LOCATION, 3, 10, None) == []
    assert store.list_operations("other-project", LOCATION, 1, 10, None) == []


def test_delete_operation(store: Store) -> None:
    _delete_jobs_recording_operations(store, {10: T0, 11: T0 + 1})

    assert store.delete_operation(10)
    assert store.get_operation(10) is None
    assert not store.delete_operation(10)
    assert not store.delete_operation(12345)
    assert [op.id for op in store.list_operations(PROJECT, LOCATION, None, 10, None)] == [11]


def _field(store: Store, job_id: int, name: str) -> Any:
    job = store.get_job(job_id)
    assert job is not None, job_id
    return getattr(job, name)
