"""The Ray backend: every job gang-scheduled on a Ray cluster, one actor per replica.

`customjobs serve --backend ray --ray-address HOST:PORT` (install `customjobs[ray]` on the
server and on every node: the actors import this package there).

- **Gang scheduling.** Each attempt gets a detached placement group with one bundle per
  replica (CPU, memory, GPU from the replica's grant or its machine type); it is placed
  whole or not at all. Strategy `--ray-placement-strategy`: SPREAD (default: replicas on
  different nodes where the cluster allows, packed where it does not), STRICT_SPREAD (every
  replica on its own node, or no start), PACK, STRICT_PACK.
- **Real addresses.** A `ReplicaHost` actor (ray_replica.py) in each bundle reports its
  node's address and a port free on that node; CLUSTER_SPEC, TF_CONFIG and MASTER_ADDR are
  built from those, then every actor starts its replica (command or Python package, as the
  process runtime does) under the keeper, whose process group dies with the actor.
- **Logs and state come home.** Each poll asks every replica's actor for its exit status
  and the log bytes after what the server already holds, and appends them to the server's
  own log file: the log endpoint, Cloud Logging view and `logs --follow` work unchanged, and
  the logs stay when the job or the whole cluster is gone. Polls never block the scheduler:
  one request per replica is in flight, and a pass takes whatever answers have arrived.
- **Loss.** An actor that died (its node died or left, or it was killed) is a LOST replica,
  named with its node; the scheduler fails the job, or restarts the gang when
  restartJobOnWorkerRestart is set.
- **Restarts of the server.** Actors and placement groups are detached and named by job,
  attempt and replica, so a restarted server finds them from the stored handle.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError
from ray.util.placement_group import (
    get_placement_group,
    placement_group,
    remove_placement_group,
)
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

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
from customjobs.execution.backends.ray.cluster import Bundle, ClusterTooSmall, ClusterView, bundle_for
from customjobs.execution.backends.ray.container import ContainerLaunch
from customjobs.execution.backends.ray.replica import Placement, Progress, ReplicaHost, ReplicaStart
from customjobs.execution.environment import ReplicaPlan, make_local_output_dirs, plan_replicas
from customjobs.execution.host import Detected

log = logging.getLogger(__name__)

NAME = "ray"
STRATEGIES = ("SPREAD", "STRICT_SPREAD", "PACK", "STRICT_PACK")
# The most log bytes one poll brings home per replica.
CHUNK_BYTES = 1 << 20
# How long a poll waits for the replicas' answers before it reports what it knew.
POLL_WAIT_S = 0.2
# How long a release waits for the nodes to drop an attempt's files.
CLEANUP_TIMEOUT_S = 10.0
# How long the server waits for the Ray head's port at start-up.
CONNECT_TIMEOUT_S = 5.0
# How long a launch waits for the actors to report their nodes and start their replicas.
ACTOR_START_TIMEOUT_S = 120.0


def actor_name(job_id: int, attempt: int, replica: str) -> str:
    return f"customjobs-job-{job_id}-attempt-{attempt}-{replica}"


def group_name(job_id: int, attempt: int) -> str:
    return f"customjobs-job-{job_id}-attempt-{attempt}"


@dataclass
class _Seen:
    """The last answer of one replica's actor."""

    fact: ReplicaFact
    group_alive: bool = True

    @property
    def final(self) -> bool:
        """Nothing more will come from this replica: lost, or exited with no process left."""
        lost = self.fact.status is ReplicaStatus.LOST
        return lost or (self.fact.status is ReplicaStatus.EXITED and not self.group_alive)


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
        self._host_class: Any = ray.remote(ReplicaHost)
        self.cluster = ClusterView()
        # Paths on the nodes: buckets as the server sees them (shared, or the same machine),
        # package environments in the node's own folder.
        self._options = ProcessOptions(
            settings.buckets_dir, Path(settings.ray_node_dir) / "python-envs", settings.server_url
        )
        # `--runtime podman|docker`: replicas are containers on their nodes (ray_container.py).
        self._container = ContainerLaunch.from_settings(settings)
        self._actors: dict[str, Any] = {}
        self._inflight: dict[str, Any] = {}
        self._seen: dict[str, _Seen] = {}
        log.info("Ray backend on %s: %s", settings.ray_address or "auto", self.cluster.describe())

    def detected_capacity(self) -> Detected:
        """The live nodes' totals: what admission counts against (execution/host.py)."""
        cpus, memory_gb, gpus = self.cluster.totals()
        return Detected(cpus, memory_gb, gpus)

    # starting ------------------------------------------------------------------------

    def start(self, request: LaunchRequest) -> Handle:
        spec = request.spec
        names = [n for p in spec.pools for n in p.replica_names()]
        pools = {p.index: p for p in spec.pools}
        bundles = self._bundles(request, names)
        pg_name = group_name(request.job_id, request.attempt)
        group = placement_group(
            [b.resources for b in bundles],
            strategy=self._settings.ray_placement_strategy,
            name=pg_name,
            lifetime="detached",
        )
        actors: list[Any] = []
        try:
            self._wait_placed(group, bundles)
            for index, (name, bundle) in enumerate(zip(names, bundles, strict=True)):
                actors.append(self._new_actor(request, name, bundle, group, index))
            placements: list[Placement] = ray.get(
                [a.placement.remote() for a in actors], timeout=ACTOR_START_TIMEOUT_S
            )
            hosts = {n: f"{p.node_ip}:{p.port}" for n, p in zip(names, placements, strict=True)}
            plans = plan_replicas(spec, request.job_id, request.project, hosts)
            request.workdir.mkdir(parents=True, exist_ok=True)
            limits.write_notes(request)
            make_local_output_dirs(spec.base_output_uri)
            bases = {n: _size(request.log_path(n)) for n in names}
            starts = [
                a.start.remote(
                    ReplicaStart(
                        plan,
                        pools[plan.pool_index],
                        spec,
                        self._options,
                        request.grant(plan.name),
                        self._container,
                    )
                )
                for a, plan in zip(actors, plans, strict=True)
            ]
            errors = ray.get(starts, timeout=ACTOR_START_TIMEOUT_S)
        except BaseException:
            self._abandon(actors, pg_name)
            raise
        problems = [e for e in errors if e]
        if problems:
            self._abandon(actors, pg_name)
            raise LaunchError(problems[0])
        replicas = [_entry(request, n, p, bases[n]) for n, p in zip(names, placements, strict=True)]
        for replica, actor in zip(replicas, actors, strict=True):
            self._actors[replica["actor"]] = actor
        where = ", ".join(f"{r['name']} on {r['node_ip']}" for r in replicas)
        log.info("job %s attempt %s placed on Ray: %s", request.job_id, request.attempt, where)
        return {"backend": NAME, "placement_group": pg_name, "replicas": replicas, "started_s": time.time()}

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
        timeout = self._settings.ray_placement_timeout_s
        try:
            ray.get(group.ready(), timeout=timeout)
        except GetTimeoutError:
            wanted = "; ".join(b.describe() for b in bundles)
            raise LaunchError(
                f"The Ray cluster could not place the job's {len(bundles)} replicas "
                f"({wanted}; strategy {self._settings.ray_placement_strategy}) within {timeout:g}s. "
                f"The cluster has {self.cluster.describe()}."
            ) from None

    def _new_actor(self, request: LaunchRequest, name: str, bundle: Bundle, group: Any, index: int) -> Any:
        return self._host_class.options(
            name=actor_name(request.job_id, request.attempt, name),
            lifetime="detached",
            max_restarts=0,
            num_cpus=bundle.cpus,
            num_gpus=bundle.gpus,
            memory=bundle.memory_bytes or None,
            scheduling_strategy=PlacementGroupSchedulingStrategy(group, placement_group_bundle_index=index),
        ).remote(name, str(self._settings.ray_node_dir), request.job_id, request.attempt)

    def _abandon(self, actors: list[Any], pg_name: str) -> None:
        for actor in actors:
            _kill(actor)
        _remove_group(pg_name)

    # watching ------------------------------------------------------------------------

    def poll(self, handle: Handle) -> list[ReplicaFact]:
        self._refresh(handle)
        return [self._seen[r["actor"]].fact for r in handle["replicas"]]

    def all_stopped(self, handle: Handle) -> bool:
        self._refresh(handle)
        return all(self._seen[r["actor"]].final for r in handle["replicas"])

    def _refresh(self, handle: Handle) -> None:
        """Take the answers that have arrived, and ask again those replicas that answered."""
        pending: dict[Any, dict[str, Any]] = {}
        for replica in handle["replicas"]:
            key = replica["actor"]
            seen = self._seen.setdefault(key, _Seen(ReplicaFact(replica["name"], ReplicaStatus.RUNNING)))
            if seen.final:
                continue
            ref = self._inflight.get(key)
            if ref is None:
                actor = self._actor(key)
                if actor is None:
                    detail = f"its Ray actor {key} no longer exists; {self._node_words(replica)}"
                    seen.fact = ReplicaFact(replica["name"], ReplicaStatus.LOST, detail=detail)
                    continue
                offset = _size(Path(replica["log"])) - int(replica["log_base"])
                ref = self._inflight[key] = actor.poll.remote(max(offset, 0), CHUNK_BYTES)
            pending[ref] = replica
        if not pending:
            return
        ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=POLL_WAIT_S)
        for ref in ready:
            replica = pending[ref]
            self._inflight.pop(replica["actor"], None)
            self._take(replica, ref)

    def _take(self, replica: dict[str, Any], ref: Any) -> None:
        seen = self._seen[replica["actor"]]
        name = replica["name"]
        try:
            progress: Progress = ray.get(ref)
        except RayActorError as exc:
            seen.fact = ReplicaFact(name, ReplicaStatus.LOST, detail=self._loss_words(replica, exc))
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
        return f"its Ray actor on node {replica['node_ip']} (node id {replica['node_id'][:12]}) died: {cause}"

    @staticmethod
    def _node_words(replica: dict[str, Any]) -> str:
        return f"the Ray node {replica['node_ip']} (node id {replica['node_id'][:12]}) that ran it"

    def _actor(self, key: str) -> Any | None:
        actor = self._actors.get(key)
        if actor is None:
            try:
                actor = self._actors[key] = ray.get_actor(key)
            except ValueError:
                return None
        return actor

    # stopping ------------------------------------------------------------------------

    def stop(self, handle: Handle, force: bool) -> None:
        for replica in handle["replicas"]:
            seen = self._seen.get(replica["actor"])
            if seen is not None and seen.final:
                continue
            actor = self._actor(replica["actor"])
            if actor is not None:
                actor.stop.remote(force)  # its answer does not matter: polls tell what stopped

    def release(self, handle: Handle) -> None:
        actors = [a for a in (self._actor(r["actor"]) for r in handle["replicas"]) if a is not None]
        with contextlib.suppress(RayActorError, GetTimeoutError):
            ray.get([a.cleanup.remote() for a in actors], timeout=CLEANUP_TIMEOUT_S)
        for actor in actors:
            _kill(actor)
        for replica in handle["replicas"]:
            key = replica["actor"]
            for cache in (self._actors, self._inflight, self._seen):
                cache.pop(key, None)
        _remove_group(handle["placement_group"])

    def reattach(self, request: LaunchRequest, names: list[str]) -> Handle | None:
        """A launch the server died in: keep it only if every replica had started (a gang)."""
        actors = [self._actor(actor_name(request.job_id, request.attempt, n)) for n in names]
        pg_name = group_name(request.job_id, request.attempt)
        found = [a for a in actors if a is not None]
        try:
            started = len(found) == len(names) and all(
                ray.get([a.started.remote() for a in found], timeout=ACTOR_START_TIMEOUT_S)
            )
            placements = ray.get([a.placement.remote() for a in found], timeout=ACTOR_START_TIMEOUT_S)
        except (RayActorError, GetTimeoutError):
            started = False
        if not started:
            self._abandon(found, pg_name)
            return None
        # No log byte of this launch was brought home yet: the remote logs start at the local end.
        replicas = [
            _entry(request, n, p, _size(request.log_path(n))) for n, p in zip(names, placements, strict=True)
        ]
        return {"backend": NAME, "placement_group": pg_name, "replicas": replicas, "started_s": time.time()}

    def shell_command(self, handle: Handle, replica: str) -> ShellCommand:
        raise ShellUnavailable("Interactive shells into replicas are not available on the Ray backend.")

    def close(self) -> None:
        """Disconnect; detached actors keep their replicas running for the next server."""
        ray.shutdown()


def _entry(request: LaunchRequest, name: str, placement: Placement, log_base: int) -> dict[str, Any]:
    """A replica in the stored handle. `log_base`: how long the server's copy of its log was
    before the replica wrote to it (attempt and lenient notes come first)."""
    return {
        "name": name,
        "actor": actor_name(request.job_id, request.attempt, name),
        "node_ip": placement.node_ip,
        "node_id": placement.node_id,
        "log": str(request.log_path(name)),
        "log_base": log_base,
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
