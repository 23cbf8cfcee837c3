"""The environment every replica gets, computed for a three-pool job without running it."""

from __future__ import annotations

import json

from customjobs.domain.spec import LaunchSpec, PoolSpec
from customjobs.execution.environment import expand, output_env, plan_replicas


def pool(index: int, replicas: int, env: tuple[tuple[str, str], ...] = ()) -> PoolSpec:
    return PoolSpec(index, replicas, "n1-standard-4", "img", ("run",), ("--x", "$(RANK)"), env)


def test_expand_follows_kubernetes_rules() -> None:
    env = {"A": "1", "B": "two"}
    assert expand("$(A)-$(B)", env) == "1-two"
    assert expand("$(MISSING)", env) == "$(MISSING)"
    assert expand("$$(A)", env) == "$(A)"
    assert expand("cost $5", env) == "cost $5"


def test_output_env_appends_slash_and_maps_file_uris() -> None:
    assert output_env("gs://b/out")["AIP_MODEL_DIR"] == "gs://b/out/model/"
    assert output_env("file:///data/run/")["AIP_CHECKPOINT_DIR"] == "/data/run/checkpoints/"
    assert output_env(None) == {}


def test_plan_for_primary_workers_and_evaluator() -> None:
    # Pool 2 is skipped with an empty {}: positions keep their roles.
    spec = LaunchSpec(pools=(pool(0, 1, (("X", "$(CLOUD_ML_JOB_ID)-$(RANK)"),)), pool(1, 2), pool(3, 1)))
    hosts = {
        n: f"127.0.0.1:{9000 + i}"
        for i, n in enumerate(["workerpool0-0", "workerpool1-0", "workerpool1-1", "workerpool3-0"])
    }
    plans = {p.name: p for p in plan_replicas(spec, 42, "proj", hosts)}
    assert list(plans) == ["workerpool0-0", "workerpool1-0", "workerpool1-1", "workerpool3-0"]
    primary = plans["workerpool0-0"]
    cluster = json.loads(primary.env["CLUSTER_SPEC"])["cluster"]
    assert cluster == {
        "workerpool0": ["127.0.0.1:9000"],
        "workerpool1": ["127.0.0.1:9001", "127.0.0.1:9002"],
        "workerpool3": ["127.0.0.1:9003"],
    }
    tf = json.loads(plans["workerpool3-0"].env["TF_CONFIG"])
    assert "evaluator" not in tf["cluster"] and tf["task"] == {"type": "evaluator", "index": 0}
    assert [plans[n].env.get("RANK") for n in plans] == ["0", "1", "2", None]
    assert primary.env["WORLD_SIZE"] == "3"
    assert (primary.env["MASTER_ADDR"], primary.env["MASTER_PORT"]) == ("127.0.0.1", "9000")
    assert primary.env["X"] == "42-0"
    assert plans["workerpool1-1"].argv == ("run", "--x", "2")
