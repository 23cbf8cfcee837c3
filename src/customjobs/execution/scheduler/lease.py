"""The scheduler lease as its holder keeps it: renewed in time, distrusted before it can be lost.

Several servers share one database; exactly one runs the scheduler. Correctness does not
rest on the lease alone (launches and state changes are compare-and-sets in the store), but
the lease keeps two servers from doing the same work, and it is how a peer takes over a dead
server's jobs within a bounded time: at most `ttl` after the holder's last renewal, plus
the peers' retry interval.

The database stamps the lease with its own clock (ttl from the moment it applies a renewal);
this process counts its deadline on its monotonic clock from *before* it asked, and trusts
the lease only for part of ttl. So the holder stops acting before any peer can take over,
whatever the two machines' wall clocks say.

Renewal runs on a thread of its own (`run`), so a slow launch (a container image pull)
does not cost the lease; the scheduler beats a heartbeat, and a scheduler stuck for
`stall_s` is no longer covered: the lease lapses and a peer takes over.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from customjobs.execution.scheduler.holders import local_holder_is_dead
from customjobs.store.leases import SCHEDULER_LEASE, Lease, LeaseStore
from customjobs.store.outage import StoreUnavailable

log = logging.getLogger(__name__)

# Renew once this fraction of ttl has passed: two renewals may fail before the lease is lost.
RENEW_FRACTION = 1 / 3
# A server without the lease asks again this often (as a fraction of ttl).
RETRY_FRACTION = 1 / 4
# The holder stops trusting its lease this fraction of ttl before the database would expire it.
SAFETY_FRACTION = 1 / 5
# A scheduler with no heartbeat for this long is stuck: its lease is left to lapse.
DEFAULT_STALL_S = 120.0


class LeaseKeeper:
    def __init__(
        self,
        store: LeaseStore,
        holder: str,
        ttl_s: float,
        name: str = SCHEDULER_LEASE,
        clock: Callable[[], float] = time.monotonic,
        is_dead: Callable[[str], bool] | None = local_holder_is_dead,
        stall_s: float = DEFAULT_STALL_S,
    ) -> None:
        self.store = store
        self.holder = holder
        self.ttl_s = ttl_s
        self.name = name
        self.stall_s = stall_s
        self.epoch = 0
        # Told when this server takes the lease (the scheduler's wake), so it starts at once.
        self.on_acquired: Callable[[], None] = lambda: None
        self._clock = clock
        # Tells a holder that certainly died (on this host); None: always wait for expiry.
        self._is_dead = is_dead
        self._deadline = 0.0  # on self._clock: the lease is trusted until then
        self._renewed_at = 0.0
        self._beat_at = clock()
        self._stalled = False
        self._was_held = False
        self._ever_held = False
        self._closed = threading.Event()
        self._lock = threading.Lock()

    @property
    def retry_s(self) -> float:
        return self.ttl_s * RETRY_FRACTION

    def held(self) -> bool:
        """Whether this server may act as the scheduler right now (no database call)."""
        return self._clock() < self._deadline

    def ensure(self) -> bool:
        """Hold the lease: renew it when due, or try to take it. True while it is held.

        Cheap when the lease is held and not yet due for renewal: callers may ask before
        every unit of work.
        """
        with self._lock:
            asked_at = self._clock()
            if asked_at < self._deadline and asked_at - self._renewed_at < self.ttl_s * RENEW_FRACTION:
                return True
            try:
                lease = self.store.try_acquire(self.name, self.holder, round(self.ttl_s * 1e6))
                if lease is None and self._is_dead is not None:
                    lease = self._take_from_dead()
            except StoreUnavailable:
                # Logged once per outage by the store (store/outage.py), not at every retry.
                return self._changed(self.held())
            except Exception as exc:
                log.warning("scheduler lease: could not reach the database: %s", exc)
                return self._changed(self.held())
            if lease is None:
                self._deadline = 0.0
                return self._changed(False)
            self._renewed_at = asked_at
            self._deadline = asked_at + self.ttl_s * (1 - SAFETY_FRACTION)
            self.epoch = lease.epoch
            self._ever_held = True
            return self._changed(True)

    def _take_from_dead(self) -> Lease | None:
        current = self.store.current(self.name)
        if current is None or self._is_dead is None or not self._is_dead(current.holder):
            return None
        lease = self.store.try_acquire(self.name, self.holder, round(self.ttl_s * 1e6), current.holder)
        if lease is not None:
            log.warning("scheduler lease: its holder %s is dead; taken over before expiry", current.holder)
        return lease

    def beat(self) -> None:
        """The scheduler is alive and making progress."""
        self._beat_at = self._clock()

    def renew_once(self) -> bool:
        """One renewer step: ensure() unless the scheduler has stalled. True while held."""
        stalled = self._clock() - self._beat_at > self.stall_s
        if stalled != self._stalled:
            self._stalled = stalled
            if stalled:
                log.error(
                    "scheduler lease: no scheduler progress for %.0fs; letting the lease lapse", self.stall_s
                )
            else:
                log.warning("scheduler lease: the scheduler made progress again")
        if not stalled:
            return self.ensure()
        with self._lock:
            return self._changed(self.held())

    def run(self) -> None:
        """The renewer thread: keep (or try to take) the lease until release()."""
        while not self._closed.is_set():
            self.renew_once()
            self._closed.wait(self.wait_s())

    def wait_s(self) -> float:
        """How long the caller may sleep before it must call ensure() again."""
        if not self.held():
            return self.retry_s
        return max(0.0, self._renewed_at + self.ttl_s * RENEW_FRACTION - self._clock())

    def release(self) -> None:
        """Stop renewing and give the lease up now (shutdown), so a peer takes over at once.

        The scheduler calls this when it has stopped acting, never before."""
        self._closed.set()
        with self._lock:
            if not self._ever_held:
                return
            self._ever_held = False
            self._deadline = 0.0
            try:
                if self.store.release(self.name, self.holder):
                    log.info("scheduler lease: released by %s", self.holder)
            except Exception as exc:
                log.warning("scheduler lease: could not release it (it expires by itself): %s", exc)
            self._was_held = False

    def _changed(self, held: bool) -> bool:
        if held and not self._was_held:
            log.info("scheduler lease: held by %s (epoch %d); scheduling here", self.holder, self.epoch)
            self.on_acquired()
        elif self._was_held and not held:
            log.warning("scheduler lease: no longer held by %s; this server stops scheduling", self.holder)
        self._was_held = held
        return held
