"""The scheduler lease on both databases: acquire, renew, expire, release, and one winner per race."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from customjobs.store.leases import SCHEDULER_LEASE
from customjobs.store.sql.leases import SqlLeaseStore
from customjobs.store.sql.store import SqlStore

LONG_US = 60_000_000
SHORT_US = 200_000


def leases(store: SqlStore) -> SqlLeaseStore:
    return SqlLeaseStore(store.engine)


def test_a_free_lease_is_taken_and_then_refused_to_others(store: SqlStore) -> None:
    lease_store = leases(store)
    assert lease_store.current(SCHEDULER_LEASE) is None

    lease = lease_store.try_acquire(SCHEDULER_LEASE, "a", LONG_US)

    assert lease is not None and lease.holder == "a" and lease.epoch == 1
    assert lease.expires_us - lease.acquired_us == LONG_US
    assert lease_store.try_acquire(SCHEDULER_LEASE, "b", LONG_US) is None
    assert lease_store.current(SCHEDULER_LEASE) == lease


def test_renewal_extends_the_lease_and_keeps_its_epoch(store: SqlStore) -> None:
    lease_store = leases(store)
    first = lease_store.try_acquire(SCHEDULER_LEASE, "a", LONG_US)
    assert first is not None
    time.sleep(0.01)

    renewed = lease_store.try_acquire(SCHEDULER_LEASE, "a", LONG_US)

    assert renewed is not None
    assert renewed.epoch == first.epoch and renewed.acquired_us == first.acquired_us
    assert renewed.expires_us > first.expires_us


def test_an_expired_lease_is_taken_over_with_a_new_epoch(store: SqlStore) -> None:
    lease_store = leases(store)
    first = lease_store.try_acquire(SCHEDULER_LEASE, "a", SHORT_US)
    assert first is not None
    assert lease_store.try_acquire(SCHEDULER_LEASE, "b", LONG_US) is None
    time.sleep(SHORT_US / 1e6 + 0.05)

    taken = lease_store.try_acquire(SCHEDULER_LEASE, "b", LONG_US)

    assert taken is not None and taken.holder == "b" and taken.epoch == first.epoch + 1
    assert taken.acquired_us >= first.expires_us
    # The old holder cannot renew what it lost.
    assert lease_store.try_acquire(SCHEDULER_LEASE, "a", LONG_US) is None


def test_release_hands_the_lease_over_at_once(store: SqlStore) -> None:
    lease_store = leases(store)
    assert lease_store.try_acquire(SCHEDULER_LEASE, "a", LONG_US) is not None

    assert not lease_store.release(SCHEDULER_LEASE, "b")
    assert lease_store.release(SCHEDULER_LEASE, "a")

    taken = lease_store.try_acquire(SCHEDULER_LEASE, "b", LONG_US)
    assert taken is not None and taken.holder == "b" and taken.epoch == 2


def test_a_dead_holder_named_by_the_caller_loses_the_lease_before_expiry(store: SqlStore) -> None:
    lease_store = leases(store)
    assert lease_store.try_acquire(SCHEDULER_LEASE, "a", LONG_US) is not None

    assert lease_store.try_acquire(SCHEDULER_LEASE, "b", LONG_US, take_from="someone-else") is None
    taken = lease_store.try_acquire(SCHEDULER_LEASE, "b", LONG_US, take_from="a")
    assert taken is not None and taken.holder == "b" and taken.epoch == 2
    # Naming the dead holder again is no help to a third server: "a" no longer holds it.
    assert lease_store.try_acquire(SCHEDULER_LEASE, "c", LONG_US, take_from="a") is None


def test_leases_by_name_are_independent(store: SqlStore) -> None:
    lease_store = leases(store)
    assert lease_store.try_acquire("one", "a", LONG_US) is not None
    assert lease_store.try_acquire("two", "b", LONG_US) is not None
    assert lease_store.try_acquire("one", "b", LONG_US) is None


def test_only_one_of_many_racing_servers_gets_the_lease(store: SqlStore) -> None:
    lease_store = leases(store)
    for round_ in range(3):
        contenders = [f"server-{round_}-{i}" for i in range(8)]
        barrier = threading.Barrier(len(contenders))

        def race(holder: str, barrier: threading.Barrier = barrier) -> bool:
            barrier.wait()
            return lease_store.try_acquire(SCHEDULER_LEASE, holder, SHORT_US) is not None

        with ThreadPoolExecutor(len(contenders)) as pool:
            won = [h for h, ok in zip(contenders, pool.map(race, contenders), strict=True) if ok]

        assert len(won) == 1
        current = lease_store.current(SCHEDULER_LEASE)
        assert current is not None and current.holder == won[0] and current.epoch == round_ + 1
        time.sleep(SHORT_US / 1e6 + 0.05)  # let it expire for the next round
