"""Lease holder ids, and how a server tells that a holder on its own host is dead.

An id is `host:pid:pid-namespace:random`: an operator finds the process from it, a
restarted server with a reused pid is still a new holder (the random part), and a peer on
the same host, in the same pid namespace, can see that the holder's process is gone and
take its lease over at once instead of waiting for it to expire. Across hosts, or when in
any doubt, expiry is the only way.
"""

from __future__ import annotations

import os
import secrets
import socket
from functools import cache

from customjobs.execution.backends import procfs


@cache
def _pid_namespace() -> str:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return "0"


def new_holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_pid_namespace()}:{secrets.token_hex(3)}"


def local_holder_is_dead(holder: str) -> bool:
    """True only when `holder` ran here (same host and pid namespace) and its process is gone.

    A live process that reused the pid makes this False: the caller then waits for expiry,
    which is always safe.
    """
    parts = holder.split(":")
    if len(parts) != 4 or not parts[1].isdigit():
        return False
    host, pid, namespace, _ = parts
    if host != socket.gethostname() or namespace != _pid_namespace() or int(pid) == os.getpid():
        return False
    return not procfs.is_alive(int(pid))
