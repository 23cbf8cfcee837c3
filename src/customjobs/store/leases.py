"""The LeaseStore protocol: a named lease in the shared database, held by one server at a time.

Several servers share one database but only one may run the scheduler. The lease lives in
the database because that is the one thing all of them already reach; its times are the
database's clock, so servers whose clocks disagree still agree on who holds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

SCHEDULER_LEASE = "scheduler"


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    # Grows by one each time the lease changes hands (a fencing token); a renewal keeps it.
    epoch: int
    acquired_us: int
    expires_us: int


class LeaseStore(Protocol):
    def try_acquire(self, name: str, holder: str, ttl_us: int, take_from: str | None = None) -> Lease | None:
        """Take the lease if it is free or expired, or renew it if `holder` has it.

        `take_from`: also take it, unexpired, if that (known dead) holder still has it.
        Returns the lease as now held, or None while another holder's lease is unexpired.
        Of any number of racing callers, at most one gets it.
        """
        ...

    def release(self, name: str, holder: str) -> bool:
        """Expire the lease now if `holder` has it, so a peer takes over at once."""
        ...

    def current(self, name: str) -> Lease | None: ...
