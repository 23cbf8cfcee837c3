"""LeaseKeeper's timing on a fake clock: renew when due, distrust before expiry, retry when lost."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field

import pytest

from customjobs.execution.scheduler.holders import local_holder_is_dead, new_holder_id
from customjobs.execution.scheduler.lease import RENEW_FRACTION, RETRY_FRACTION, SAFETY_FRACTION, LeaseKeeper
from customjobs.store.leases import Lease

TTL_S = 10.0


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeLeases:
    """One lease, with expiry in the fake clock's seconds."""

    clock: FakeClock
    holder: str | None = None
    expires: float = 0.0
    epoch: int = 0
    calls: list[str] = field(default_factory=list)
    down: bool = False

    def try_acquire(self, name: str, holder: str, ttl_us: int, take_from: str | None = None) -> Lease | None:
        self.calls.append(holder)
        if self.down:
            raise ConnectionError("database unreachable")
        taken = take_from is not None and self.holder == take_from
        if self.holder not in (None, holder) and self.expires > self.clock.now and not taken:
            return None
        if self.holder != holder:
            self.epoch += 1
        self.holder, self.expires = holder, self.clock.now + ttl_us / 1e6
        return Lease(name, holder, self.epoch, 0, round(self.expires * 1e6))

    def release(self, name: str, holder: str) -> bool:
        if self.holder != holder:
            return False
        self.expires = 0.0
        return True

    def current(self, name: str) -> Lease | None:
        if self.holder is None:
            return None
        return Lease(name, self.holder, self.epoch, 0, round(self.expires * 1e6))


def keeper(
    leases: FakeLeases, clock: FakeClock, holder: str = "a", dead: frozenset[str] | None = None
) -> LeaseKeeper:
    is_dead = None if dead is None else dead.__contains__
    return LeaseKeeper(leases, holder, TTL_S, clock=clock, is_dead=is_dead)


def test_renews_only_when_a_third_of_the_ttl_has_passed() -> None:
    clock = FakeClock()
    leases = FakeLeases(clock)
    a = keeper(leases, clock)

    assert a.ensure() and a.held() and a.epoch == 1
    clock.now += TTL_S * RENEW_FRACTION - 0.1
    assert a.ensure()
    assert len(leases.calls) == 1
    assert a.wait_s() == pytest.approx(0.1)
    clock.now += 0.2
    assert a.ensure()
    assert len(leases.calls) == 2 and a.epoch == 1


def test_stops_trusting_the_lease_before_the_database_expires_it() -> None:
    clock = FakeClock()
    leases = FakeLeases(clock)
    a = keeper(leases, clock)
    assert a.ensure()

    clock.now += TTL_S * (1 - SAFETY_FRACTION) - 0.01
    assert a.held()
    clock.now += 0.02
    assert not a.held()
    assert clock.now < leases.expires  # a peer could not have taken it yet


def test_a_peer_takes_over_after_expiry_and_the_old_holder_stops() -> None:
    clock = FakeClock()
    leases = FakeLeases(clock)
    a, b = keeper(leases, clock, "a"), keeper(leases, clock, "b")
    assert a.ensure()
    assert not b.ensure()
    assert b.wait_s() == TTL_S * RETRY_FRACTION

    clock.now += TTL_S + 0.01  # a died: no renewals
    assert b.ensure() and b.epoch == 2
    assert not a.ensure() and not a.held()


def test_release_lets_a_peer_in_at_once() -> None:
    clock = FakeClock()
    leases = FakeLeases(clock)
    a, b = keeper(leases, clock, "a"), keeper(leases, clock, "b")
    assert a.ensure()

    a.release()

    assert not a.held()
    assert b.ensure()


def test_a_database_outage_keeps_the_lease_only_until_its_local_deadline() -> None:
    clock = FakeClock()
    leases = FakeLeases(clock)
    a = keeper(leases, clock)
    assert a.ensure()
    leases.down = True

    clock.now += TTL_S * RENEW_FRACTION + 0.1
    assert a.ensure()  # renewal failed, but the lease is still good for a while
    clock.now += TTL_S
    assert not a.ensure()


def test_release_without_ever_holding_touches_nothing() -> None:
    clock = FakeClock()
    leases = FakeLeases(clock, holder="other", expires=clock.now + TTL_S)
    a = keeper(leases, clock)
    assert not a.ensure()
    a.release()
    assert leases.holder == "other" and leases.expires > clock.now


def test_a_holder_known_dead_is_taken_over_before_expiry() -> None:
    clock = FakeClock()
    leases = FakeLeases(clock)
    assert keeper(leases, clock, "a").ensure()

    assert not keeper(leases, clock, "b", dead=frozenset()).ensure()
    b = keeper(leases, clock, "b", dead=frozenset({"a"}))
    assert b.ensure() and leases.holder == "b" and b.epoch == 2
    # A live holder is never taken over early.
    assert not keeper(leases, clock, "c", dead=frozenset({"a"})).ensure()


def test_local_holder_is_dead_only_for_a_gone_process_of_this_host() -> None:
    me = new_holder_id()
    host, pid, namespace, _ = me.split(":")
    assert int(pid) == os.getpid()
    assert not local_holder_is_dead(me)

    child = subprocess.Popen(["true"])
    child.wait()
    assert local_holder_is_dead(f"{host}:{child.pid}:{namespace}:abc")
    assert not local_holder_is_dead(f"other-{host}:{child.pid}:{namespace}:abc")
    assert not local_holder_is_dead(f"{host}:{child.pid}:{namespace}1:abc")
    with subprocess.Popen(["sleep", "5"]) as alive:
        assert not local_holder_is_dead(f"{host}:{alive.pid}:{namespace}:abc")
        alive.kill()
    assert not local_holder_is_dead("not an id")


def test_a_stalled_scheduler_stops_renewals_until_it_beats_again() -> None:
    clock = FakeClock()
    leases = FakeLeases(clock)
    a = LeaseKeeper(leases, "a", TTL_S, clock=clock, is_dead=None, stall_s=30.0)
    woken: list[bool] = []
    a.on_acquired = lambda: woken.append(True)
    assert a.renew_once() and woken == [True]

    clock.now += 31.0  # no beat: the scheduler is stuck
    calls = len(leases.calls)
    assert not a.renew_once()  # the lease ran out meanwhile and is not renewed
    assert len(leases.calls) == calls

    a.beat()
    assert a.renew_once() and len(leases.calls) == calls + 1
    assert woken == [True, True]


def test_release_ends_the_renewer_thread() -> None:
    clock = FakeClock()
    leases = FakeLeases(clock)
    a = keeper(leases, clock)
    thread = threading.Thread(target=a.run)
    thread.start()
    deadline = time.monotonic() + 5
    while not leases.calls and time.monotonic() < deadline:
        time.sleep(0.01)

    a.release()
    thread.join(timeout=5)

    assert not thread.is_alive()
    assert leases.holder == "a" and leases.expires == 0.0
