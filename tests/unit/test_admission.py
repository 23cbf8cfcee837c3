"""admission.plan, the pure queue: gangs, priorities, FIFO, EASY backfill, limits, expiry."""

from __future__ import annotations

from customjobs.domain.placement import JobAllocation, ReplicaAllocation
from customjobs.domain.spec import LaunchSpec, PoolSpec
from customjobs.execution.capacity import Capacity, job_shape
from customjobs.execution.scheduler.admission import Admit, Candidate, Expire, Holder, Refuse, Wait, plan

S = 1_000_000  # microseconds per second
NOW = 1_000 * S
STRICT = Capacity(cpus=4, memory_gb=16, gpu_devices={"NVIDIA_TESLA_T4": (0, 1)}, strict=True)


def pool(index: int, machine: str, replicas: int = 1, gpu: str = "", gpus: int = 0) -> PoolSpec:
    return PoolSpec(index, replicas, machine, "local", ("true",), (), (), gpu, gpus)


def candidate(
    job_id: int,
    *pools: PoolSpec,
    capacity: Capacity = STRICT,
    priority: int = 0,
    timeout_s: float = 3600,
    max_wait_s: float | None = None,
    project: str = "p",
    create_us: int | None = None,
) -> Candidate:
    shape = job_shape(LaunchSpec(pools=pools, timeout_s=timeout_s), capacity)
    created = create_us if create_us is not None else job_id
    return Candidate(job_id, project, priority, created, shape, timeout_s, max_wait_s)


def holder(
    job_id: int, cpus: float, memory_gb: float, end_s: float, project: str = "p", gpus: tuple[int, ...] = ()
) -> Holder:
    replica = ReplicaAllocation("workerpool0-0", cpus, memory_gb, "NVIDIA_TESLA_T4" if gpus else "", gpus)
    return Holder(job_id, project, JobAllocation(cpus, memory_gb, (replica,)), NOW + end_s * S)


def by_id(decisions: list[object]) -> dict[int, object]:
    return {d.job_id: d for d in decisions}  # type: ignore[attr-defined]


def test_a_job_that_fits_is_admitted_with_every_replica() -> None:
    job = candidate(1, pool(0, "n1-standard-1"), pool(1, "n1-standard-1", replicas=2))

    (decision,) = plan(STRICT, [], [job], NOW)

    assert isinstance(decision, Admit)
    assert [r.name for r in decision.allocation.replicas] == [
        "workerpool0-0",
        "workerpool1-0",
        "workerpool1-1",
    ]
    assert (decision.allocation.cpus, decision.allocation.memory_gb) == (3, 11.25)


def test_a_gang_that_does_not_fit_whole_waits_whole() -> None:
    three = candidate(2, pool(0, "n1-standard-1"), pool(1, "n1-standard-1", replicas=2))

    (decision,) = plan(STRICT, [holder(1, 2, 7.5, end_s=60)], [three], NOW)

    assert isinstance(decision, Wait)
    assert decision.position == 1
    assert decision.reason.startswith("Waiting for free vCPUs and memory: the job needs 3 vCPUs")


def test_priority_first_then_first_come_first_served() -> None:
    jobs = [
        candidate(1, pool(0, "n1-standard-4")),
        candidate(2, pool(0, "n1-standard-4"), priority=5),
        candidate(3, pool(0, "n1-standard-4")),
        candidate(4, pool(0, "n1-standard-4"), priority=-1),
        candidate(5, pool(0, "n1-standard-4"), priority=5),
    ]

    decisions = plan(STRICT, [], jobs, NOW)

    assert [d.job_id for d in decisions] == [2, 5, 1, 3, 4]
    assert isinstance(decisions[0], Admit)
    assert [(d.job_id, d.position) for d in decisions[1:] if isinstance(d, Wait)] == [
        (5, 1),
        (1, 2),
        (3, 3),
        (4, 4),
    ]


def test_gpu_replicas_get_disjoint_devices_and_none_that_are_held() -> None:
    two = candidate(
        1,
        pool(0, "n1-standard-1", gpu="NVIDIA_TESLA_T4", gpus=1),
        pool(1, "n1-standard-1", gpu="NVIDIA_TESLA_T4", gpus=1),
    )
    (decision,) = plan(STRICT, [], [two], NOW)
    assert isinstance(decision, Admit)
    assert [r.gpu_indices for r in decision.allocation.replicas] == [(0,), (1,)]

    one = candidate(2, pool(0, "n1-standard-1", gpu="NVIDIA_TESLA_T4", gpus=1))
    (again,) = plan(STRICT, [holder(9, 1, 3.75, end_s=60, gpus=(0,))], [one], NOW)
    assert isinstance(again, Admit)
    assert again.allocation.replicas[0].gpu_indices == (1,)


def test_backfill_starts_a_job_that_ends_before_the_head_could_start() -> None:
    running = holder(1, cpus=2, memory_gb=7.5, end_s=60)
    head = candidate(2, pool(0, "n1-standard-4"))  # needs all 4 vCPUs: waits for job 1 (60 s)
    short = candidate(3, pool(0, "n1-standard-1"), timeout_s=10)
    long = candidate(4, pool(0, "n1-standard-1"), timeout_s=600)

    decisions = by_id(plan(STRICT, [running], [head, short, long], NOW))

    assert isinstance(decisions[2], Wait) and decisions[2].position == 1
    assert isinstance(decisions[3], Admit)
    assert isinstance(decisions[4], Wait)
    assert "could delay job 2" in decisions[4].reason


def test_backfill_starts_a_long_job_that_fits_beside_the_head() -> None:
    capacity = Capacity(cpus=8, memory_gb=30, strict=True)
    running = holder(1, cpus=2, memory_gb=4, end_s=60)
    blocker = holder(5, cpus=3, memory_gb=1, end_s=30)
    head = candidate(2, pool(0, "n1-standard-4"), capacity=capacity)  # 4 vCPUs, 15 GB
    long = candidate(3, pool(0, "e2-highcpu-2"), timeout_s=10_000, capacity=capacity)  # 2 vCPUs, 2 GB
    late = candidate(4, pool(0, "n1-standard-1"), timeout_s=10_000, capacity=capacity)  # 1 vCPU

    decisions = by_id(plan(capacity, [running, blocker], [head, long, late], NOW))

    # Free now: 3 vCPUs. At 30 s (job 5 ends) 6 vCPUs and 25 GB are free; the head takes 4 and
    # 15, leaving 2 vCPUs and 10 GB: the long job fits there, so it cannot delay the head. The
    # last one fits the vCPU free now, but nothing is left for it beside the head at 30 s.
    assert isinstance(decisions[2], Wait)
    assert isinstance(decisions[3], Admit)
    assert isinstance(decisions[4], Wait) and "could delay job 2" in decisions[4].reason


def test_max_wait_duration_expires_a_waiting_job() -> None:
    waited = candidate(1, pool(0, "n1-standard-4"), max_wait_s=2, create_us=NOW - 3 * S)
    fresh = candidate(2, pool(0, "n1-standard-4"), max_wait_s=2, create_us=NOW - 1 * S)

    decisions = by_id(plan(STRICT, [holder(9, 4, 15, end_s=60)], [waited, fresh], NOW))

    assert isinstance(decisions[1], Expire)
    assert "maxWaitDuration of 2s" in decisions[1].message
    assert isinstance(decisions[2], Wait) and decisions[2].position == 1


def test_a_job_the_server_can_never_hold_is_refused_in_strict_mode() -> None:
    huge = candidate(1, pool(0, "n1-standard-4", gpu="NVIDIA_TESLA_T4", gpus=4))

    (decision,) = plan(STRICT, [], [huge], NOW)

    assert isinstance(decision, Refuse)
    assert "short of 2 NVIDIA_TESLA_T4" in decision.message


def test_per_project_limit_skips_without_blocking_others() -> None:
    capacity = Capacity(cpus=8, memory_gb=64, strict=True, max_jobs_per_project=1)
    mine = candidate(1, pool(0, "n1-standard-1"), capacity=capacity, project="busy")
    other = candidate(2, pool(0, "n1-standard-1"), capacity=capacity, project="idle")

    decisions = by_id(plan(capacity, [holder(9, 1, 1, end_s=60, project="busy")], [mine, other], NOW))

    assert isinstance(decisions[1], Wait) and "project busy" in decisions[1].reason
    assert isinstance(decisions[2], Admit)


def test_lenient_mode_runs_an_oversized_job_alone_without_missing_gpus() -> None:
    laptop = Capacity(cpus=2, memory_gb=8)
    a2 = candidate(1, pool(0, "a2-highgpu-1g", gpu="NVIDIA_TESLA_A100", gpus=1), capacity=laptop)
    tiny = candidate(2, pool(0, "e2-highcpu-2"), capacity=laptop)

    decisions = by_id(plan(laptop, [], [a2, tiny], NOW))

    admitted = decisions[1]
    assert isinstance(admitted, Admit)
    replica = admitted.allocation.replicas[0]
    assert (replica.cpus, replica.memory_gb, replica.gpu_indices) == (2, 8, ())
    (note,) = replica.notes
    assert "asked for a2-highgpu-1g: 12 vCPUs, 85 GB of memory, 1 NVIDIA_TESLA_A100" in note
    assert "it got 2 vCPUs, 8 GB of memory and no GPU" in note
    assert "Left out: 1 NVIDIA_TESLA_A100 (this machine has none)" in note
    assert "runs alone" in note
    assert isinstance(decisions[2], Wait)  # the whole machine is taken
