"""The execution-backend contract (execution/backends/base.py), one suite for every backend.

Each test drives a backend through the protocol the scheduler uses (start, poll, stop,
all_stopped, release, and a second backend object re-attaching from a stored handle, as a
restarted server does) on real processes: `process` runs them on this machine, `ray` on
the real two-node Ray cluster of tests/support/ray_cluster.py. Whatever a backend is, the
scheduler must see the same facts: exit codes as a shell reports them, every log line in
the server's own log file, the whole process tree gone after a stop.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from customjobs.config import Settings
from customjobs.domain.spec import LaunchSpec, PoolSpec
from customjobs.execution.backends.base import (
    ExecutionBackend,
    Handle,
    LaunchError,
    LaunchRequest,
    ReplicaFact,
    ReplicaStatus,
)
from support.ray_cluster import RayCluster
from support.server import processes_with

WAIT_S = 60.0
BACKENDS = ("process", pytest.param("ray", marks=pytest.mark.ray))


def make_backend(kind: str, data_dir: Path, cluster: RayCluster | None) -> ExecutionBackend:
    if kind == "process":
        from customjobs.execution.backends.local.backend import LocalProcessBackend

        return LocalProcessBackend(Settings(data_dir=data_dir))
    from customjobs.execution.backends.ray.bridge import RayBridge

    assert cluster is not None
    return RayBridge(
        Settings(
            data_dir=data_dir, backend="ray", ray_address=cluster.address, ray_node_dir=data_dir / "nodes"
        )
    )


@pytest.fixture(params=BACKENDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def factory(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[[], ExecutionBackend]]:
    """Backend objects of one kind over one data dir: a second one is a restarted server."""
    cluster = request.getfixturevalue("ray_cluster") if kind == "ray" else None
    made: list[ExecutionBackend] = []

    def new() -> ExecutionBackend:
        made.append(make_backend(kind, tmp_path, cluster))
        return made[-1]

    yield new
    if made:
        made[-1].close()


def one_pool(*commands: list[str]) -> LaunchSpec:
    """One pool per command (pool 0 the first), one replica each."""
    pools = tuple(
        PoolSpec(i, 1, "n1-standard-4", "local", tuple(cmd), (), ()) for i, cmd in enumerate(commands)
    )
    return LaunchSpec(pools=pools)


def request_for(spec: LaunchSpec, tmp_path: Path, attempt: int = 1) -> LaunchRequest:
    job_id = random.randint(10**17, 10**18)
    return LaunchRequest(job_id, "p", attempt, spec, tmp_path / f"job-{job_id}" / f"attempt-{attempt}")


def wait(
    backend: ExecutionBackend, handle: Handle, done: Callable[[list[ReplicaFact]], bool]
) -> list[ReplicaFact]:
    deadline = time.monotonic() + WAIT_S
    while True:
        facts = backend.poll(handle)
        if done(facts):
            return facts
        assert time.monotonic() < deadline, facts
        time.sleep(0.05)


def all_exited(facts: list[ReplicaFact]) -> bool:
    return all(f.status is ReplicaStatus.EXITED for f in facts)


def wait_stopped(backend: ExecutionBackend, handle: Handle) -> None:
    deadline = time.monotonic() + WAIT_S
    while not backend.all_stopped(handle):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def log_of(request: LaunchRequest, replica: str = "workerpool0-0") -> str:
    return request.log_path(replica).read_text()


def wait_for_line(backend: ExecutionBackend, handle: Handle, request: LaunchRequest, text: str) -> None:
    """Polls (which brings a remote log home) until the primary's log shows `text`, while it runs."""
    deadline = time.monotonic() + WAIT_S
    while not request.log_path("workerpool0-0").exists() or text not in log_of(request):
        (fact,) = backend.poll(handle)
        assert fact.status is ReplicaStatus.RUNNING
        assert time.monotonic() < deadline
        time.sleep(0.05)


def py(code: str) -> list[str]:
    return [sys.executable, "-u", "-c", code]


def test_exit_codes_and_output_land_in_the_servers_log(
    factory: Callable[[], ExecutionBackend], tmp_path: Path
) -> None:
    backend = factory()
    request = request_for(
        one_pool(
            py("print('hello'); import sys; print('oops', file=sys.stderr)"), py("import sys; sys.exit(3)")
        ),
        tmp_path,
    )
    handle = backend.start(request)
    facts = wait(backend, handle, all_exited)
    assert {f.name: f.exit_code for f in facts} == {"workerpool0-0": 0, "workerpool1-0": 3}
    wait_stopped(backend, handle)
    assert log_of(request).splitlines() == ["hello", "oops"]
    backend.release(handle)


def test_a_missing_program_exits_127_saying_so(
    factory: Callable[[], ExecutionBackend], tmp_path: Path
) -> None:
    backend = factory()
    request = request_for(one_pool(["/no/such/program"]), tmp_path)
    handle = backend.start(request)
    (fact,) = wait(backend, handle, all_exited)
    assert fact.exit_code == 127
    wait_stopped(backend, handle)
    assert "/no/such/program" in log_of(request)
    backend.release(handle)


def test_an_empty_command_is_a_launch_error(factory: Callable[[], ExecutionBackend], tmp_path: Path) -> None:
    with pytest.raises(LaunchError, match="workerpool0-0 has no command"):
        factory().start(request_for(one_pool([]), tmp_path))


def test_lines_arrive_while_the_replica_runs(factory: Callable[[], ExecutionBackend], tmp_path: Path) -> None:
    backend = factory()
    request = request_for(one_pool(py("import time; print('first'); time.sleep(600)")), tmp_path)
    handle = backend.start(request)
    wait_for_line(backend, handle, request, "first")
    backend.stop(handle, force=True)
    wait_stopped(backend, handle)
    backend.release(handle)


def test_every_replica_gets_vertex_addresses_of_real_ports(
    factory: Callable[[], ExecutionBackend], tmp_path: Path
) -> None:
    backend = factory()
    script = (
        "import json, os; print(json.dumps({k: os.environ[k] for k in "
        "('CLUSTER_SPEC', 'RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')}))"
    )
    pools = (
        PoolSpec(0, 1, "n1-standard-4", "local", tuple(py(script)), (), ()),
        PoolSpec(1, 2, "n1-standard-4", "local", tuple(py(script)), (), ()),
    )
    request = request_for(LaunchSpec(pools=pools), tmp_path)
    handle = backend.start(request)
    assert all(f.exit_code == 0 for f in wait(backend, handle, all_exited))
    wait_stopped(backend, handle)
    names = ["workerpool0-0", "workerpool1-0", "workerpool1-1"]
    seen = {name: json.loads(log_of(request, name)) for name in names}
    cluster = json.loads(seen["workerpool0-0"]["CLUSTER_SPEC"])["cluster"]
    primary = cluster["workerpool0"][0]
    assert len(cluster["workerpool1"]) == 2 and len({primary, *cluster["workerpool1"]}) == 3
    assert sorted(s["RANK"] for s in seen.values()) == ["0", "1", "2"]
    for env in seen.values():
        assert env["WORLD_SIZE"] == "3"
        assert f"{env['MASTER_ADDR']}:{env['MASTER_PORT']}" == primary
    backend.release(handle)


def test_stop_ends_the_whole_process_tree(factory: Callable[[], ExecutionBackend], tmp_path: Path) -> None:
    backend = factory()
    marker = f"{random.randint(100000, 999999)}.25"
    request = request_for(one_pool(["sh", "-c", f"sleep {marker} & sleep {marker} & wait"]), tmp_path)
    handle = backend.start(request)
    deadline = time.monotonic() + WAIT_S
    while len(processes_with(f"sleep {marker}")) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    backend.stop(handle, force=False)
    (fact,) = wait(backend, handle, all_exited)
    assert fact.exit_code == 143  # SIGTERM, as a shell says it
    wait_stopped(backend, handle)
    assert processes_with(f"sleep {marker}") == []
    backend.release(handle)


def test_force_kills_what_ignores_sigterm(factory: Callable[[], ExecutionBackend], tmp_path: Path) -> None:
    backend = factory()
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready'); time.sleep(600)"
    )
    request = request_for(one_pool(py(code)), tmp_path)
    handle = backend.start(request)
    wait_for_line(backend, handle, request, "ready")
    backend.stop(handle, force=False)
    time.sleep(1.0)
    assert not backend.all_stopped(handle)  # the program outlives SIGTERM: the scheduler escalates
    backend.stop(handle, force=True)
    (fact,) = wait(backend, handle, all_exited)
    # 137 (killed); the process backend's /bin/sh wrapper itself may have ended on the SIGTERM.
    assert fact.exit_code in (137, 143)
    wait_stopped(backend, handle)
    backend.release(handle)


def test_a_restarted_server_reattaches_and_keeps_every_line(
    factory: Callable[[], ExecutionBackend], tmp_path: Path
) -> None:
    first = factory()
    code = "import time\nfor i in range(30):\n    print(f'line {i}'); time.sleep(0.1)\nraise SystemExit(5)"
    request = request_for(one_pool(py(code)), tmp_path)
    handle = first.start(request)
    # What the server stored; the first backend is then dropped, as a killed server is.
    stored = json.loads(json.dumps(handle))
    time.sleep(0.5)
    second = factory()
    (fact,) = wait(second, stored, all_exited)
    assert fact.exit_code == 5
    wait_stopped(second, stored)
    assert log_of(request).splitlines() == [f"line {i}" for i in range(30)]
    second.release(stored)


def test_reattach_after_a_launch_interrupted_midway(
    factory: Callable[[], ExecutionBackend], tmp_path: Path
) -> None:
    """The server died after starting the replicas but before storing the handle."""
    first = factory()
    request = request_for(one_pool(py("import time; time.sleep(2); print('finished')")), tmp_path)
    first.start(request)
    # A restarted server comes back seconds later; by then the replica has recorded itself.
    time.sleep(1.0)
    second = factory()
    handle = second.reattach(request, ["workerpool0-0"])
    assert handle is not None
    (fact,) = wait(second, handle, all_exited)
    assert fact.exit_code == 0
    wait_stopped(second, handle)
    assert "finished" in log_of(request)
    second.release(handle)
    assert second.reattach(request_for(one_pool(["true"]), tmp_path), ["workerpool0-0"]) is None
