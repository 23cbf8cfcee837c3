"""A real two-node Ray cluster on this machine: a head and a worker, each its own `ray start`.

The two nodes are separate raylets with their own resources and addresses: the head on
this machine's address, the worker on 127.0.0.2 (all of 127/8 is loopback on Linux), so
CLUSTER_SPEC and MASTER_ADDR carry two different node addresses. The head is told to
notice a dead node within about 2 s (health checks every 0.5 s), so a test that kills
the worker's raylet can state a tight bound. Everything lives under a temporary folder of
its own; stop() kills exactly this cluster's processes, never another Ray on the machine.
Used by tests/on_ray and by bench/b8_ray_backend.py.

By default the head has no dashboard (`--include-dashboard=false`), as the tests want.
`RayCluster(dashboard=True)` starts it, and with it Ray's job server, on 127.0.0.1 at a
free port (`dashboard_url`), which `ray.job_submission.JobSubmissionClient` talks to; it
needs `ray[default]`. The benchmark also asks for more logical CPU and memory per node
(`node_cpus`, `node_memory_bytes`), as its servers declare a large capacity.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from support.server import ServerProcess, free_port, processes_with

WORKER_IP = "127.0.0.2"
# Logical resources per node: enough for the tests' n1-standard-4 gangs on each node.
NODE_CPUS = 8
NODE_MEMORY_BYTES = 32 * 1024**3
HEALTH_CHECKS = {
    "health_check_period_ms": 500,
    "health_check_failure_threshold": 3,
    "health_check_timeout_ms": 500,
}
START_TIMEOUT_S = 120.0


def _ray() -> str:
    """The `ray` program of the Python running the tests (the project's venv)."""
    found = Path(sys.executable).with_name("ray")
    return str(found) if found.exists() else shutil.which("ray") or "ray"


class RayCluster:
    def __init__(
        self,
        *,
        dashboard: bool = False,
        node_cpus: int = NODE_CPUS,
        node_memory_bytes: int = NODE_MEMORY_BYTES,
    ) -> None:
        # Short: Ray puts unix sockets under it, and their paths are limited to 107 bytes.
        self.temp_dir = Path(tempfile.mkdtemp(prefix="cjr-", dir="/tmp"))
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.node_cpus = node_cpus
        self.node_memory_bytes = node_memory_bytes
        self.dashboard_port = free_port() if dashboard else None

    @property
    def dashboard_url(self) -> str | None:
        """The head's dashboard and job server (`dashboard=True` only), e.g. for Ray Jobs."""
        return None if self.dashboard_port is None else f"http://127.0.0.1:{self.dashboard_port}"

    def start(self) -> None:
        if self.dashboard_port is None:
            dashboard: tuple[str, ...] = ("--include-dashboard=false",)
        else:
            dashboard = (
                "--include-dashboard=true", "--dashboard-host=127.0.0.1",
                f"--dashboard-port={self.dashboard_port}",
            )  # fmt: skip
        self._ray_start(
            "--head", "--node-ip-address=127.0.0.1", f"--port={self.port}", *dashboard,
            f"--ray-client-server-port={free_port()}", f"--system-config={json.dumps(HEALTH_CHECKS)}",
        )  # fmt: skip
        if self.dashboard_url is not None:
            self.wait_for_dashboard()
        self.start_worker()

    def wait_for_dashboard(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Until the head's dashboard answers `/api/version` (the job server is one of its modules)."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{self.dashboard_url}/api/version", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Ray dashboard at {self.dashboard_url} did not answer")
            time.sleep(0.5)

    def start_worker(self) -> None:
        self._ray_start(f"--address={self.address}", f"--node-ip-address={WORKER_IP}")
        self.wait_for_nodes(2)

    def _ray_start(self, *args: str) -> None:
        argv = [
            _ray(), "start", *args, f"--num-cpus={self.node_cpus}", f"--memory={self.node_memory_bytes}",
            f"--temp-dir={self.temp_dir}", f"--dashboard-agent-listen-port={free_port()}",
            "--disable-usage-stats",
        ]  # fmt: skip
        env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
        result = subprocess.run(argv, capture_output=True, text=True, timeout=START_TIMEOUT_S, env=env)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{result.stdout}\n{result.stderr}")

    def ask(self, expression: str, namespace: str = "customjobs") -> object:
        """The value of a Python expression, evaluated by a fresh Ray driver on this cluster
        (`ray` is imported): Ray's own view, in a process of its own."""
        code = (
            f"import json, ray; ray.init(address={self.address!r}, namespace={namespace!r}, "
            "logging_level='ERROR', log_to_driver=False)\n"
            f"print('ANSWER ' + json.dumps({expression}))"
        )
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"asking Ray for {expression} failed:\n{result.stderr}")
        answer = [line for line in result.stdout.splitlines() if line.startswith("ANSWER ")][-1]
        return json.loads(answer.removeprefix("ANSWER "))

    def alive_nodes(self) -> int:
        """Live nodes as the GCS reports them."""
        try:
            return int(str(self.ask("sum(1 for n in ray.nodes() if n['Alive'])")))
        except RuntimeError:
            return 0

    def placement_group_state(self, name: str) -> str | None:
        """REMOVED, CREATED, PENDING...; None if Ray never had a placement group so named."""
        table = self.ask("{v['name']: v['state'] for v in ray.util.placement_group_table().values()}")
        assert isinstance(table, dict)
        state = table.get(name)
        return None if state is None else str(state)

    def actor_exists(self, name: str) -> bool:
        return bool(self.ask(f"[n for n in ray.util.list_named_actors() if n == {name!r}]"))

    def hosted_replicas(self) -> list[str]:
        """The replica keys every node's customjobs agent hosts now (agent.py)."""
        agents = "[n for n in ray.util.list_named_actors() if n.startswith('customjobs-agent-')]"
        answer = self.ask(f"sorted(k for n in {agents} for k in ray.get(ray.get_actor(n).keys.remote()))")
        assert isinstance(answer, list)
        return [str(k) for k in answer]

    def wait_for_nodes(self, count: int, timeout_s: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while self.alive_nodes() != count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Ray cluster at {self.address} did not reach {count} live nodes")
            time.sleep(0.5)

    def raylet_pid(self, node_ip: str) -> int:
        pids = [p for p in processes_with(f"--node_ip_address={node_ip} ") if _is_raylet(p, self.temp_dir)]
        if len(pids) != 1:
            raise RuntimeError(f"expected one raylet on {node_ip}, found {pids}")
        return pids[0]

    def raylet_ips(self) -> dict[int, str]:
        """Each raylet of this cluster by pid: the node address it serves."""
        out = {}
        for pid in processes_with(str(self.temp_dir)):
            if _is_raylet(pid, self.temp_dir):
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                for arg in cmdline:
                    if arg.startswith(b"--node_ip_address="):
                        out[pid] = arg.split(b"=", 1)[1].decode()
        return out

    def kill_head(self) -> None:
        """The head's GCS dies (the cluster's control plane); raylets follow within a minute."""
        for pid in self._processes():
            if b"/gcs/gcs_server" in _cmdline(pid).split(b"\0")[0]:
                os.kill(pid, signal.SIGKILL)

    def kill_worker(self) -> None:
        """The worker node dies: its raylet is killed outright (its workers go with it)."""
        os.kill(self.raylet_pid(WORKER_IP), signal.SIGKILL)

    def stop(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in self._processes():
                with contextlib.suppress(ProcessLookupError):
                    # A replica's keeper takes its whole process group along: the replica's
                    # command line does not name this cluster, its keeper's does.
                    if re.search(rb"customjobs[./]execution[./]backends[./]local[./]keeper", _cmdline(pid)):
                        os.killpg(os.getpgid(pid), sig)
                    os.kill(pid, sig)
            time.sleep(1.0)
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def _processes(self) -> set[int]:
        """This cluster's processes: those naming its folder, and those naming its GCS port
        (the client server names only the head's address); actors die with their raylet."""
        by_port = [p for p in processes_with(f":{self.port}") if b"ray" in _cmdline(p)]
        return set(processes_with(str(self.temp_dir))) | set(by_port)


@contextlib.contextmanager
def running_cluster() -> Iterator[RayCluster]:
    """A started cluster, stopped (its every process) on the way out, whatever happened."""
    cluster = RayCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def ray_server(cluster: RayCluster, data_dir: Path, *extra: str) -> ServerProcess:
    """`customjobs serve --backend ray` on this cluster (not yet started)."""
    return ServerProcess(
        data_dir,
        "--backend", "ray", "--ray-address", cluster.address,
        "--ray-node-dir", str(cluster.temp_dir / "nodes"), *extra,
    )  # fmt: skip


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return b""


def _is_raylet(pid: int, temp_dir: Path) -> bool:
    cmdline = _cmdline(pid)
    return b"/raylet/raylet" in cmdline.split(b"\0")[0] and str(temp_dir).encode() in cmdline
