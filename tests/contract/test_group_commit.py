"""Group commit on a real SQLite file: writes that wait together share a transaction, and
each is answered with its own result, or its own error, only after that transaction commits."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from customjobs.store.sql import engine as engines
from customjobs.store.sql.engine import make_engine, upgrade, write, write_transaction
from customjobs.store.sql.raw_writes import Executes
from customjobs.store.sql.tables import operations

WRITERS = 16


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def _row(op_id: int) -> dict[str, object]:
    return {
        "id": op_id,
        "project": "p",
        "location": "l",
        "kind": "delete",
        "api_version": "v1",
        "job_id": op_id,
        "done": False,
        "create_us": 1,
        "update_us": 1,
    }


_INSERT = insert(operations)


def _insert(op_id: int) -> Callable[[Executes], int]:
    def run(conn: Executes) -> int:
        conn.execute(_INSERT, _row(op_id))
        return op_id

    return run


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(operations)).scalar_one())


def _queued(engine: Engine) -> int:
    writer = engines._writer(engine)
    with writer._cond:
        return len(writer._pending)


def _hold_the_writer(engine: Engine, release: threading.Event) -> threading.Thread:
    """A write that keeps the writer busy until `release`, so the writes after it queue."""
    entered = threading.Event()

    def blocking(conn: Executes) -> None:
        entered.set()
        release.wait(10)

    thread = threading.Thread(target=write, args=(engine, blocking))
    thread.start()
    assert entered.wait(10)
    return thread


def test_concurrent_writes_all_commit_with_their_own_results(engine: Engine) -> None:
    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(lambda i: write(engine, _insert(i)), range(1, 201)))
    assert results == list(range(1, 201))
    assert _count(engine) == 200


def test_waiting_writes_share_one_batch_and_a_failing_one_fails_alone(engine: Engine) -> None:
    write(engine, _insert(7))
    release = threading.Event()
    holder = _hold_the_writer(engine, release)
    with ThreadPoolExecutor(WRITERS) as pool:
        # id 7 exists already: that one write must fail, and only that one.
        futures = {i: pool.submit(write, engine, _insert(i)) for i in [1, 2, 3, 7, 8, 9]}
        while _queued(engine) < len(futures):
            threading.Event().wait(0.01)
        release.set()
        holder.join(10)
        with pytest.raises(IntegrityError):
            futures[7].result(10)
        assert sorted(f.result(10) for i, f in futures.items() if i != 7) == [1, 2, 3, 8, 9]
    assert _count(engine) == 6  # 7 once, and the five others


def test_a_write_is_answered_only_after_its_commit(engine: Engine) -> None:
    # Once write() returns, a new connection (another reader, a restarted server) sees it.
    for i in range(1, 21):
        write(engine, _insert(i))
        assert _count(engine) == i


def test_exclusive_transactions_wait_for_the_batch_and_batches_for_them(engine: Engine) -> None:
    release = threading.Event()
    holder = _hold_the_writer(engine, release)
    seen: list[int] = []

    def exclusive() -> None:
        with write_transaction(engine) as conn:
            seen.append(int(conn.execute(select(func.count()).select_from(operations)).scalar_one()))
            conn.execute(insert(operations).values(**_row(100)))

    thread = threading.Thread(target=exclusive)
    thread.start()
    thread.join(0.3)
    assert thread.is_alive() and not seen  # it waits for the writer
    release.set()
    holder.join(10)
    thread.join(10)
    assert seen == [0]
    assert write(engine, _insert(1)) == 1
    assert _count(engine) == 2


def test_a_write_inside_a_write_is_refused_not_deadlocked(engine: Engine) -> None:
    def nested(conn: Executes) -> None:
        write(engine, _insert(2))

    with pytest.raises(RuntimeError, match="inside another write"):
        write(engine, nested)
    with pytest.raises(RuntimeError, match="inside another write"), write_transaction(engine):
        write(engine, _insert(3))
    assert write(engine, _insert(4)) == 4  # the writer is free again


def test_statements_with_their_own_values_and_rowcounts_run_as_sqlalchemy_would(engine: Engine) -> None:
    # Values held by the statement itself (not passed as parameters) are bound too.
    write(engine, lambda conn: conn.execute(insert(operations).values(**_row(5))))
    done = update(operations).where(operations.c.id == bindparam("w_id")).values(done=True)
    assert write(engine, lambda conn: conn.execute(done, {"w_id": 5}).rowcount) == 1
    assert write(engine, lambda conn: conn.execute(done, {"w_id": 6}).rowcount) == 0
    with engine.connect() as conn:
        assert conn.execute(select(operations.c.done).where(operations.c.id == 5)).scalar_one() is True


def test_a_list_parameter_is_refused_rather_than_sent_unexpanded(engine: Engine) -> None:
    gone = delete(operations).where(operations.c.id.in_([1, 2]))
    with pytest.raises(ValueError, match="list parameter"):
        write(engine, lambda conn: conn.execute(gone))
