"""How a Ray driver reaches the host of one replica: the one place that knows how a stored
handle's replica entry names it.

Both the backend's driver (backend.py) and a fresh driver in another process (the shell
relay, shell_relay.py, which gets the entry as JSON) go through these two functions, so a
change in how replicas are hosted is made here once.

A replica is hosted by its node's customjobs agent (agent.py), under its key: the entry
names both (`agent`, `key`), and every `ReplicaHost` method goes through the agent's
`call`. An entry stored by an older server has neither: its replica is an actor of its
own (`actor`), called directly until its job ends.
"""

from __future__ import annotations

from typing import Any

import ray


def host_name(entry: dict[str, Any]) -> str:
    """The name of the detached actor that hosts the replica: its node's agent."""
    return str(entry.get("agent") or entry["actor"])


def find_host(entry: dict[str, Any]) -> Any | None:
    """The replica's host by name, from any driver in the namespace; None once it is gone."""
    try:
        return ray.get_actor(host_name(entry))
    except ValueError:
        return None


def call_host(host: Any, entry: dict[str, Any], method: str, *args: Any) -> ray.ObjectRef[Any]:
    """Call a `ReplicaHost` method of that replica (replica.py) on its node."""
    if "agent" in entry:
        ref: ray.ObjectRef[Any] = host.call.remote(entry["key"], method, *args)
    else:
        ref = getattr(host, method).remote(*args)
    return ref
