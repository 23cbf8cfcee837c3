"""A replica's grant made real: GPU visibility, container flags, cgroups, log notes, OOM words."""

from __future__ import annotations

from pathlib import Path

from customjobs.domain.placement import JobAllocation, ReplicaAllocation
from customjobs.domain.spec import LaunchSpec
from customjobs.execution.backends import limits
from customjobs.execution.backends.base import LaunchRequest, ReplicaFact, ReplicaStatus
from customjobs.execution.backends.local import cgroups
from customjobs.execution.scheduler import outcomes

GPU = ReplicaAllocation("workerpool0-0", 4, 15, "NVIDIA_TESLA_T4", (1, 3))
CPU_ONLY = ReplicaAllocation("workerpool1-0", 1, 3.75)


def test_host_processes_see_exactly_their_gpus() -> None:
    assert limits.process_gpu_env(GPU) == {"CUDA_VISIBLE_DEVICES": "1,3"}
    assert limits.process_gpu_env(CPU_ONLY) == {"CUDA_VISIBLE_DEVICES": ""}
    assert limits.process_gpu_env(None) == {}


def test_container_flags_per_runtime() -> None:
    podman = limits.container_flags("podman", GPU)
    assert "--memory=15360m" in podman
    assert podman[-4:] == ["--device", "nvidia.com/gpu=1", "--device", "nvidia.com/gpu=3"]
    assert limits.container_flags("docker", GPU)[-2:] == ["--gpus", '"device=1,3"']
    assert limits.gpu_flags("docker", (2,)) == ["--gpus", "device=2"]
    assert limits.container_flags("podman", CPU_ONLY) == ["--cpus=1", "--memory=3840m"]
    assert limits.container_gpu_env(CPU_ONLY) == {"CUDA_VISIBLE_DEVICES": ""}
    assert limits.container_gpu_env(GPU) == {}


def test_notes_open_the_replica_log(tmp_path: Path) -> None:
    noted = ReplicaAllocation("workerpool0-0", 2, 8, notes=("[customjobs] workerpool0-0 asked for ...",))
    request = LaunchRequest(
        job_id=1,
        project="p",
        attempt=1,
        spec=LaunchSpec(pools=()),
        workdir=tmp_path / "attempt-1",
        allocation=JobAllocation(3, 11.75, (noted, CPU_ONLY)),
    )

    limits.write_notes(request)

    assert request.log_path("workerpool0-0").read_text() == "[customjobs] workerpool0-0 asked for ...\n"
    assert not request.log_path("workerpool1-0").exists()


def test_cgroup_gets_the_grants_limits(tmp_path: Path) -> None:
    root = tmp_path / "cg"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (root / "cgroup.subtree_control").write_text("")
    limiter = cgroups.CgroupLimits.at(root)
    assert limiter is not None
    assert (root / "cgroup.subtree_control").read_text() == "+cpu +memory"

    path = limiter.create("job-1-1-workerpool0-0", GPU)

    assert path is not None
    assert (path / "memory.max").read_text() == str(15 * 1024**3)
    assert (path / "cpu.max").read_text() == "400000 100000"
    assert limiter.wrap(path, ("python", "train.py"))[3:] == (str(path), "python", "train.py")
    assert not cgroups.oom_killed(path)
    (path / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert cgroups.oom_killed(path)


def test_a_directory_without_controllers_is_no_cgroup_root(tmp_path: Path) -> None:
    assert cgroups.CgroupLimits.at(tmp_path) is None
    assert cgroups.CgroupLimits.at(None) is None


def test_an_oom_killed_replica_is_reported_in_vertex_words() -> None:
    facts = [ReplicaFact("workerpool0-0", ReplicaStatus.EXITED, 137, oom_killed=True)]

    outcome = outcomes.decide(facts, 0, None, log_tail=lambda r: [], log_hint=lambda r: "LOGS")

    assert outcome is not None and outcome.error_message is not None
    assert outcome.error_message.startswith(
        "The replica workerpool0-0 ran out of memory and exited with a non-zero status of 137."
    )
