"""The Ray backend: every job gang-scheduled on a Ray cluster, run by an agent per node.

`customjobs serve --backend ray --ray-address HOST:PORT` (install `customjobs[ray]` on the
server and on every node: the agents import this package there).

- **Gang scheduling.** Each attempt gets a detached placement group with one bundle per
  replica (CPU, memory, GPU from the replica's grant or its machine type); it is placed
  whole or not at all. Strategy `--ray-placement-strategy`: SPREAD (default: replicas on
  different nodes where the cluster allows, packed where it does not), STRICT_SPREAD (every
  replica on its own node, or no start), PACK, STRICT_PACK.
- **Warm agents.** Every node runs one detached customjobs agent (agent.py), started when
  the backend starts (agent_pool.py), so a job never waits for Ray to start a worker
  process. Once the gang is placed, the backend reads which node each bundle landed on and
  asks that node's agent to host the replica (a `ReplicaHost`, replica.py) with as many of
  the node's GPUs as its bundle reserved (gpus.py). The placement group keeps holding the
  replicas' resources in Ray; every call to a replica goes through `_call`.
- **Real addresses.** Each replica's host reports its node's address and a port free on
  that node; CLUSTER_SPEC, TF_CONFIG and MASTER_ADDR are built from those, then every host
  starts its replica (command or Python package, as the process runtime does) under the
  keeper, whose process group dies with the agent.
- **Logs and state come home.** Each poll asks every replica's host for its exit status
  and the log bytes after what the server already holds, and appends them to the server's
  own log file: the log endpoint, Cloud Logging view and `logs --follow` work unchanged, and
  the logs stay when the job or the whole cluster is gone. Polls never block the scheduler:
  one request per replica is in flight, held on its node until the replica ends or for
  LONG_POLL_S, and a pass takes whatever answers have arrived. An answer with news (an
  exit, a loss) wakes the scheduler at once (through the bridge's wake pipe), so a job's
  end is seen when it happens, not at the next tick.
- **Loss.** An agent that died (its node died or left, or it was killed) makes each of its
  replicas LOST, named with its node; the scheduler fails the job, or restarts the gang when
  restartJobOnWorkerRestart is set.
- **Restarts of the server.** Agents and placement groups are detached and named (agents by
  node, groups by job and attempt) and agents key replicas by job, attempt and replica, so
  a restarted server finds them from the stored handle. A release drops the replicas from
  their agents, which stay for the next jobs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError, RayTaskError
from ray.util.placement_group import (
    get_placement_group,
    placement_group_table,
    remove_placement_group,
)

from customjobs.config import Settings
from customjobs.domain.spec import PoolSpec
from customjobs.execution.backends import limits
from customjobs.execution.backends.base import (
    BackendUnavailable,
    Handle,
    LaunchError,
    LaunchRequest,
    ReplicaFact,
    ReplicaStatus,
    ShellCommand,
    ShellUnavailable,
)
from customjobs.execution.backends.local.process_setup import ProcessOptions
from customjobs.execution.backends.ray.agent import UnknownReplica, agent_name
from customjobs.execution.backends.ray.agent_pool import AgentPool
from customjobs.execution.backends.ray.cluster import Bundle, ClusterTooSmall, ClusterView, bundle_for
from customjobs.execution.backends.ray.container import ContainerLaunch
from customjobs.execution.backends.ray.placing import GroupWaits, free_per_node, waiting_reason
from customjobs.execution.backends.ray.reach import call_host, host_name
from customjobs.execution.backends.ray.replica import Placement, Progress, ReplicaStart
from customjobs.execution.backends.ray.shell_relay import relay_argv
from customjobs.execution.backends.shells import DEFAULT_TERM, find_replica
from customjobs.execution.environment import ReplicaPlan, make_local_output_dirs, plan_replicas
from customjobs.execution.host import Detected

log = logging.getLogger(__name__)

NAME = "ray"
STRATEGIES = ("SPREAD", "STRICT_SPREAD", "PACK", "STRICT_PACK")
# The most log bytes one poll brings home per replica.
CHUNK_BYTES = 1 << 20
# How long a replica's host holds a poll for its keeper to end before it answers: an exit
# comes home at once (its answer wakes the scheduler), and log bytes at least this often.
# Under the scheduler's active tick, so every pass finds a fresh answer.
LONG_POLL_S = 0.2
# How long a release waits for the nodes to drop an attempt's files.
CLEANUP_TIMEOUT_S = 10.0
# How long the server waits for the Ray head's port at start-up.
CONNECT_TIMEOUT_S = 5.0
# How long a launch waits for the agents to host the replicas and start them (an agent not
# warm yet starts first).
ACTOR_START_TIMEOUT_S = 120.0


def actor_name(job_id: int, attempt: int, replica: str) -> str:
    """The replica's key on its node's agent (once the name of an actor of its own)."""
    return f"customjobs-job-{job_id}-attempt-{attempt}-{replica}"


def group_name(job_id: int, attempt: int) -> str:
    return f"customjobs-job-{job_id}-attempt-{attempt}"


@dataclass
class _Seen:
    """The last answer of one replica's host."""

    fact: ReplicaFact
    group_alive: bool = True

    @property
    def final(self) -> bool:
        """Nothing more will come from this replica: lost, or exited with no process left."""
        lost = self.fact.status is ReplicaStatus.LOST
        return lost or (self.fact.status is ReplicaStatus.EXITED and not self.group_alive)


class ReplicaGone(LookupError):
    """The actor that hosted a replica no longer exists (for the user: why it is lost)."""


class RayBackend:
    name = NAME

    def __init__(self, settings: Settings, notify: Callable[[], None] = lambda: None) -> None:
        if settings.ray_placement_strategy not in STRATEGIES:
            raise BackendUnavailable(
                f"--ray-placement-strategy {settings.ray_placement_strategy!r}: "
                f"expected one of {', '.join(STRATEGIES)}"
            )
        self._notify = notify
        self._settings = settings
        _check_reachable(settings.ray_address)
        # The driver connection: detached actors and placement groups outlive it.
        try:
            ray.init(
                address=settings.ray_address,
                namespace=settings.ray_namespace,
                logging_level=logging.WARNING,
                log_to_driver=False,
                configure_logging=False,
                # A second backend in one process (tests' restarted server) shares the connection.
                ignore_reinit_error=True,
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = settings.ray_address or "$RAY_ADDRESS or a local cluster"
            raise BackendUnavailable(f"cannot connect to the Ray cluster at {where}: {exc}") from exc
        self.cluster = ClusterView()
        # Warm now: the first job should not wait for Ray to start a worker per node.
        self._agents = AgentPool(self.cluster)
        self._agents.warm()
        # Paths on the nodes: buckets as the server sees them (shared, or the same machine),
        # package environments in the node's own folder.
        self._options = ProcessOptions(
            settings.buckets_dir, Path(settings.ray_node_dir) / "python-envs", settings.server_url
        )
        # `--runtime podman|docker`: replicas are containers on their nodes (ray_container.py).
        self._container = ContainerLaunch.from_settings(settings)
        self._inflight: dict[str, Any] = {}
        self._seen: dict[str, _Seen] = {}
        self._groups = GroupWaits(settings.ray_placement_strategy)
        log.info("Ray backend on %s: %s", settings.ray_address or "auto", self.cluster.describe())

    def detected_capacity(self) -> Detected:
        """The live nodes' totals: what admission counts against (execution/host.py)."""
        cpus, memory_gb, gpus = self.cluster.totals()
        return Detected(cpus, memory_gb, gpus)

    # starting ------------------------------------------------------------------------

    def place(self, request: LaunchRequest) -> str | None:
        """Create the attempt's placement group, or look at it again: None once it is placed,
        else what the cluster lacks for it. Never waits; past --ray-placement-timeout the
        group is removed and the job fails (LaunchError)."""
        names = [n for p in request.spec.pools for n in p.replica_names()]
        bundles = self._bundles(request, names)
        pg_name = group_name(request.job_id, request.attempt)
        group = self._groups.group(pg_name, bundles)
        if self._groups.ready(group):
            return None
        if self._groups.waited_s(pg_name) >= self._settings.ray_placement_timeout_s:
            self._groups.remove(pg_name)
            raise self._not_placed(bundles)
        return waiting_reason(bundles, self._settings.ray_placement_strategy, free_per_node())

    def unplace(self, job_id: int, attempt: int) -> None:
        self._groups.remove(group_name(job_id, attempt))

    def start(self, request: LaunchRequest) -> Handle:
        spec = request.spec
        names = [n for p in spec.pools for n in p.replica_names()]
        pools = {p.index: p for p in spec.pools}
        bundles = self._bundles(request, names)
        pg_name = group_name(request.job_id, request.attempt)
        # Placed already when the scheduler asked `place` first; a direct start waits for it.
        group = self._groups.group(pg_name, bundles)
        replicas: list[dict[str, Any]] = []  # hosted on their agents: dropped if the start fails
        try:
            self._wait_placed(group, bundles)
            self._groups.placed(pg_name)
            placements = self._open(request, names, group, replicas)
            hosts = {n: f"{p.node_ip}:{p.port}" for n, p in zip(names, placements, strict=True)}
            # The primary (names[0]) serves its dashboard on a port free on its own node.
            dashboard = placements[0].http_port if spec.enable_dashboard_access else None
            plans = plan_replicas(spec, request.job_id, request.project, hosts, dashboard)
            request.workdir.mkdir(parents=True, exist_ok=True)
            limits.write_notes(request)
            make_local_output_dirs(spec.base_output_uri)
            for replica in replicas:
                replica["log_base"] = _size(Path(replica["log"]))
            starts = [
                self._call(r, "start", self._replica_start(request, plan, pools[plan.pool_index]))
                for r, plan in zip(replicas, plans, strict=True)
            ]
            errors = ray.get(starts, timeout=ACTOR_START_TIMEOUT_S)
        except BaseException:
            self._abandon(replicas, pg_name)
            raise
        problems = [e for e in errors if e]
        if problems:
            self._abandon(replicas, pg_name)
            raise LaunchError(problems[0])
        for replica in replicas:  # the first polls: a replica that ends at once is heard of at once
            seen = self._seen[replica["actor"]] = _Seen(ReplicaFact(replica["name"], ReplicaStatus.RUNNING))
            self._ask(replica, seen)
        where = ", ".join(f"{r['name']} on {r['node_ip']}" for r in replicas)
        log.info("job %s attempt %s placed on Ray: %s", request.job_id, request.attempt, where)
        handle: Handle = {
            "backend": NAME,
            "placement_group": pg_name,
            "replicas": replicas,
            "started_s": time.time(),
        }
        if dashboard:  # the dashboard proxy (api/rest/dashboard.py) goes to the primary's node
            handle.update(dashboard_port=dashboard, dashboard_host=placements[0].node_ip)
        return handle

    def _bundles(self, request: LaunchRequest, names: list[str]) -> list[Bundle]:
        pool_of = {n: p for p in request.spec.pools for n in p.replica_names()}
        asked = [bundle_for(request.grant(n), pool_of[n]) for n in names]
        try:
            fitted = self.cluster.fit(asked, strict=self._settings.strict_capacity)
        except ClusterTooSmall as exc:
            raise LaunchError(f"The job cannot run on this Ray cluster: {exc}.") from exc
        for name, was, now in zip(names, asked, fitted, strict=True):
            if was != now:
                log.warning(
                    "job %s: %s asks for %s; on this Ray cluster it gets %s (lenient capacity)",
                    request.job_id, name, was.describe(), now.describe(),
                )  # fmt: skip
        return fitted

    def _replica_start(self, request: LaunchRequest, plan: ReplicaPlan, pool: PoolSpec) -> ReplicaStart:
        grant = request.grant(plan.name)
        return ReplicaStart(plan, pool, request.spec, self._options, grant, self._container)

    def _wait_placed(self, group: Any, bundles: list[Bundle]) -> None:
        # A GCS wait, not `group.ready()`: that schedules a task, and so a worker, in the group.
        if self._groups.ready(group) or group.wait(self._settings.ray_placement_timeout_s):
            return
        raise self._not_placed(bundles)

    def _not_placed(self, bundles: list[Bundle]) -> LaunchError:
        wanted = "; ".join(b.describe() for b in bundles)
        return LaunchError(
            f"The Ray cluster could not place the job's {len(bundles)} replicas "
            f"({wanted}; strategy {self._settings.ray_placement_strategy}) within "
            f"{self._settings.ray_placement_timeout_s:g}s. The cluster has {self.cluster.describe()}."
        )

    def _open(
        self, request: LaunchRequest, names: list[str], group: Any, opened: list[dict[str, Any]]
    ) -> list[Placement]:
        """Host every replica on the agent of the node its bundle landed on, with the GPUs the
        bundle reserved; where each is. `opened` gets their handle entries as they are asked."""
        table = placement_group_table(group)
        nodes, reserved = table["bundles_to_node_id"], table["bundles"]
        opened += [_entry(request, name, nodes[i]) for i, name in enumerate(names)]
        where = (str(self._settings.ray_node_dir), request.job_id, request.attempt)
        for retry in (False, True):
            refs = [
                self._agents.for_node(r["node_id"]).open.remote(
                    r["key"], r["name"], *where, int(reserved.get(i, {}).get("GPU", 0))
                )
                for i, r in enumerate(opened)
            ]
            try:
                placements: list[Placement] = ray.get(refs, timeout=ACTOR_START_TIMEOUT_S)
                break
            except RayActorError:
                # An agent that died hosting nothing: no poll told. Its node is placed, so
                # alive: once more with new agents (an open is the same on a live one).
                for replica in opened:
                    self._agents.forget(replica["agent"])
                if retry:
                    raise
                log.info("job %s: a customjobs agent of its nodes had died; asking new ones", request.job_id)
        for replica, placement in zip(opened, placements, strict=True):
            replica["node_ip"] = placement.node_ip
        return placements

    def _abandon(self, replicas: list[dict[str, Any]], pg_name: str) -> None:
        """Drop the replicas from their agents (killing what runs of them), then the group."""
        drops = [ref for ref in (self._drop(r) for r in replicas) if ref is not None]
        ray.wait(drops, num_returns=len(drops), timeout=CLEANUP_TIMEOUT_S)
        self._groups.remove(pg_name)

    # watching ------------------------------------------------------------------------

    def poll(self, handle: Handle) -> list[ReplicaFact]:
        self._refresh(handle)
        return [self._seen[r["actor"]].fact for r in handle["replicas"]]

    def all_stopped(self, handle: Handle) -> bool:
        self._refresh(handle)
        return all(self._seen[r["actor"]].final for r in handle["replicas"])

    def _refresh(self, handle: Handle) -> None:
        """Take the answers that have arrived, then ask again those replicas that answered.
        Never waits: a question waits on its node instead (LONG_POLL_S), and an answer with
        news wakes the scheduler for the pass that takes it (_news)."""
        pending: dict[Any, dict[str, Any]] = {}
        for replica in handle["replicas"]:
            key = replica["actor"]
            seen = self._seen.setdefault(key, _Seen(ReplicaFact(replica["name"], ReplicaStatus.RUNNING)))
            ref = self._inflight.get(key)
            if ref is not None and not seen.final:
                pending[ref] = replica
        if pending:
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0)
            for ref in ready:
                replica = pending[ref]
                self._inflight.pop(replica["actor"], None)
                self._take(replica, ref)
        for replica in handle["replicas"]:
            seen = self._seen[replica["actor"]]
            if not seen.final and replica["actor"] not in self._inflight:
                self._ask(replica, seen)
        self._agents.warm_now_and_then()  # a node that joined gets its agent before its first job

    def _ask(self, replica: dict[str, Any], seen: _Seen) -> None:
        """One poll of the replica in flight: the log after what is home, and its status."""
        offset = max(_size(Path(replica["log"])) - int(replica["log_base"]), 0)
        # An older server's replica actor answers at once: its poll takes no wait.
        wait = (LONG_POLL_S,) if "agent" in replica else ()
        try:
            ref = self._inflight[replica["actor"]] = self._call(replica, "poll", offset, CHUNK_BYTES, *wait)
        except ReplicaGone as exc:
            seen.fact = ReplicaFact(replica["name"], ReplicaStatus.LOST, detail=str(exc))
            self._notify()
            return
        ref.future().add_done_callback(lambda answer: self._news(answer, seen))

    def _news(self, answer: Any, seen: _Seen) -> None:
        """On Ray's thread, as an answer arrives: wake the scheduler if a pass should take it
        now (the replica ended, or lost, or more of a long log waits), not for mere log bytes,
        which the next tick takes."""
        try:
            progress: Progress = answer.result()
        except Exception:  # lost: _take says how
            self._notify()
            return
        news = seen.fact.status is not ReplicaStatus.EXITED or not progress.group_alive
        if progress.more or (progress.exit_code is not None and news):
            self._notify()

    def _take(self, replica: dict[str, Any], ref: Any) -> None:
        seen = self._seen[replica["actor"]]
        name = replica["name"]
        try:
            progress: Progress = ray.get(ref)
        except RayActorError as exc:
            self._agents.forget(host_name(replica))
            seen.fact = ReplicaFact(name, ReplicaStatus.LOST, detail=self._loss_words(replica, exc))
            self._notify()
            return
        except UnknownReplica:  # a new agent on its node: the one that ran it died
            detail = f"{self._node_words(replica)} no longer hosts it (its customjobs agent was restarted)"
            seen.fact = ReplicaFact(name, ReplicaStatus.LOST, detail=detail)
            self._notify()
            return
        if progress.chunk:
            with open(replica["log"], "ab") as out:
                out.write(progress.chunk)
        seen.group_alive = progress.group_alive
        if progress.exit_code is not None and not progress.more:
            if seen.fact.status is not ReplicaStatus.EXITED:
                self._notify()
            seen.fact = ReplicaFact(name, ReplicaStatus.EXITED, progress.exit_code)
        if progress.more:
            self._notify()  # the rest of a long log, on the next pass

    def _loss_words(self, replica: dict[str, Any], exc: Exception) -> str:
        node = self.cluster.node(replica["node_id"])
        if node is None or not node.alive:
            return f"{self._node_words(replica)} died or left the Ray cluster"
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        host = "customjobs agent" if "agent" in replica else "Ray actor"
        return f"its {host} on node {replica['node_ip']} (node id {replica['node_id'][:12]}) died: {cause}"

    @staticmethod
    def _node_words(replica: dict[str, Any]) -> str:
        return f"the Ray node {replica['node_ip']} (node id {replica['node_id'][:12]}) that ran it"

    def _actor(self, name: str) -> Any | None:
        """A live actor by name: a node's agent (or an older server's replica actor)."""
        return self._agents.find(name)

    # stopping ------------------------------------------------------------------------

    def stop(self, handle: Handle, force: bool) -> None:
        for replica in handle["replicas"]:
            seen = self._seen.get(replica["actor"])
            if seen is not None and seen.final:
                continue
            with contextlib.suppress(ReplicaGone):  # gone: polls say so
                self._call(replica, "stop", force)  # its answer does not matter: polls tell what stopped

    def release(self, handle: Handle) -> None:
        """Each node drops the attempt's files, then its agent drops the replica (the agent stays)."""
        cleanups = []
        for replica in handle["replicas"]:
            with contextlib.suppress(ReplicaGone):
                cleanups.append(self._call(replica, "cleanup"))
        # Every answer, or the timeout: a failed or lost cleanup must not hold up the others.
        ray.wait(cleanups, num_returns=len(cleanups), timeout=CLEANUP_TIMEOUT_S)
        drops = [ref for ref in (self._drop(r) for r in handle["replicas"]) if ref is not None]
        ray.wait(drops, num_returns=len(drops), timeout=CLEANUP_TIMEOUT_S)
        for replica in handle["replicas"]:
            key = replica["actor"]
            for cache in (self._inflight, self._seen):
                cache.pop(key, None)
        _remove_group(handle["placement_group"])

    def reattach(self, request: LaunchRequest, names: list[str]) -> Handle | None:
        """A launch the server died in: keep it only if every replica had started (a gang)."""
        pg_name = group_name(request.job_id, request.attempt)
        try:
            nodes = placement_group_table(get_placement_group(pg_name))["bundles_to_node_id"]
        except ValueError:  # no group: nothing of the launch can be running
            return None
        # Bundle i holds replica i, as start() asked: its node's agent hosts it under its key.
        replicas = [_entry(request, n, nodes.get(i, "")) for i, n in enumerate(names)]
        try:
            wait_s = ACTOR_START_TIMEOUT_S
            started = all(ray.get([self._call(r, "started") for r in replicas], timeout=wait_s))
            placements = ray.get([self._call(r, "placement") for r in replicas], timeout=wait_s)
        except (ReplicaGone, RayActorError, RayTaskError, GetTimeoutError):
            started = False
        if not started:
            self._abandon(replicas, pg_name)
            return None
        for replica, placement in zip(replicas, placements, strict=True):
            replica["node_ip"] = placement.node_ip
            # No log byte of this launch was brought home yet: the remote logs start at the local end.
            replica["log_base"] = _size(Path(replica["log"]))
        return {"backend": NAME, "placement_group": pg_name, "replicas": replicas, "started_s": time.time()}

    def shell_command(self, handle: Handle, replica: str) -> ShellCommand:
        """A relay (shell_relay.py) that opens the shell on the replica's node and carries it
        over Ray: the server's PTY is the page's terminal, the node's runs the shell."""
        entry = find_replica(handle, replica)
        seen = self._seen.get(entry["actor"])
        if seen is not None and seen.fact.status is not ReplicaStatus.RUNNING:
            raise ShellUnavailable(f"The replica {replica} is not running.")
        if self._actor(host_name(entry)) is None:
            raise ShellUnavailable(f"The replica {replica} is gone: its Ray host no longer exists.")
        # The address this driver did connect to: settings may say "auto" or nothing.
        address = ray.get_runtime_context().gcs_address or self._settings.ray_address or "auto"
        argv = relay_argv(address, self._settings.ray_namespace, entry)
        return ShellCommand(argv, {**os.environ, "TERM": os.environ.get("TERM") or DEFAULT_TERM}, None)

    def _call(self, replica_entry: dict[str, Any], method: str, *args: Any) -> Any:
        """Call a `ReplicaHost` method of one replica (reach.py says how it is hosted): its
        ObjectRef. ReplicaGone when its host no longer exists; RayActorError from the ref
        when the host dies meanwhile."""
        host = self._actor(host_name(replica_entry))
        if host is None:
            raise ReplicaGone(
                f"its Ray host {host_name(replica_entry)} no longer exists; {self._node_words(replica_entry)}"
            )
        return call_host(host, replica_entry, method, *args)

    def _drop(self, replica_entry: dict[str, Any]) -> Any | None:
        """Have its agent forget the replica (and kill what is left of it); None if nothing to wait for."""
        host = self._actor(host_name(replica_entry))
        if host is None:
            return None
        if "agent" not in replica_entry:  # an older server's replica actor: it goes with its actor
            _kill(host)
            self._agents.forget(host_name(replica_entry))
            return None
        return host.drop.remote(replica_entry["key"])

    def close(self) -> None:
        """Disconnect; detached actors keep their replicas running for the next server."""
        ray.shutdown()


def _entry(request: LaunchRequest, name: str, node_id: str) -> dict[str, Any]:
    """A replica in the stored handle, hosted by the agent of node `node_id` under `key`
    (`actor`, the same, is what caches and older handles go by). `node_ip` comes from the
    node once it hosts the replica; `log_base`, how long the server's copy of its log was
    before the replica wrote to it (attempt and lenient notes come first), before it starts."""
    key = actor_name(request.job_id, request.attempt, name)
    return {
        "name": name,
        "actor": key,
        "key": key,
        "agent": agent_name(node_id),
        "node_ip": "",
        "node_id": node_id,
        "log": str(request.log_path(name)),
        "log_base": 0,
    }


def _check_reachable(address: str | None) -> None:
    """Fail at once on a GCS address nothing listens at: ray.init would retry for minutes."""
    address = address or ""
    host, sep, port = address.rpartition(":")
    if not sep or "://" in address or not port.isdigit():  # None, "auto", ray://: Ray's own lookup
        return
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise BackendUnavailable(f"cannot connect to the Ray cluster at {address}: {exc}") from exc


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _kill(actor: Any) -> None:
    try:
        ray.kill(actor, no_restart=True)
    except (RayActorError, ValueError) as exc:
        log.debug("killing actor: %s", exc)


def _remove_group(name: str) -> None:
    with contextlib.suppress(ValueError):  # already gone
        remove_placement_group(get_placement_group(name))
