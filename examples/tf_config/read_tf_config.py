"""Reading TF_CONFIG and CLUSTER_SPEC the way TensorFlow does, without TensorFlow.

Vertex AI sets TF_CONFIG on every replica of a multi-replica job: `cluster` maps the
TensorFlow task types (chief, worker, ps) to their host:port lists, and `task` says
which one this replica is. TensorFlow's `TFConfigClusterResolver` reads exactly that;
`TfConfig` below is its parsing half: task type and id, the cluster spec, this task's
address, whether it is the chief. CLUSTER_SPEC holds the same with Vertex's own pool
names (workerpool0..3), and is also set on single-replica jobs and on the evaluator,
which TF_CONFIG's cluster leaves out.

Each replica writes what it resolved to AIP_MODEL_DIR/tf_config/<type>-<index>.json;
the chief waits until every replica of the job (known from CLUSTER_SPEC) has, then
prints a summary. AIP_MODEL_DIR must be a local path or file:// here.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

WAIT_FOR_PEERS_S = 60.0
# Vertex's pool positions, as TensorFlow task types.
POOL_TASK_TYPES = {
    "workerpool0": "chief",
    "workerpool1": "worker",
    "workerpool2": "ps",
    "workerpool3": "evaluator",
}


@dataclass(frozen=True)
class TfConfig:
    cluster: dict[str, list[str]]
    task_type: str
    task_id: int
    environment: str

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> TfConfig:
        """As TFConfigClusterResolver: no TF_CONFIG means a single local task."""
        raw = (env if env is not None else os.environ).get("TF_CONFIG", "")
        config = json.loads(raw) if raw else {}
        task = config.get("task", {})
        return cls(
            cluster={k: list(v) for k, v in config.get("cluster", {}).items()},
            task_type=task.get("type", "worker"),
            task_id=int(task.get("index", 0)),
            environment=config.get("environment", ""),
        )

    @property
    def is_chief(self) -> bool:
        """TensorFlow's rule: the chief, or worker 0 when the cluster has no chief."""
        if "chief" in self.cluster:
            return self.task_type == "chief"
        return self.task_type == "worker" and self.task_id == 0

    @property
    def num_workers(self) -> int:
        """Replicas that compute (what MultiWorkerMirroredStrategy counts): chief plus workers."""
        return len(self.cluster.get("chief", [])) + len(self.cluster.get("worker", []))

    def master(self, rpc_layer: str = "grpc") -> str:
        """This task's address, as TFConfigClusterResolver.master() gives it."""
        hosts = self.cluster.get(self.task_type, [])
        if self.task_id >= len(hosts):
            return ""
        return f"{rpc_layer}://{hosts[self.task_id]}"


def main() -> None:
    tf_config = TfConfig.from_env()
    cluster_spec = json.loads(os.environ["CLUSTER_SPEC"])
    task = cluster_spec["task"]
    name = f"{POOL_TASK_TYPES[task['type']]}-{task['index']}"
    out = Path(os.environ["AIP_MODEL_DIR"].removeprefix("file://")) / "tf_config"
    out.mkdir(parents=True, exist_ok=True)
    record = {**asdict(tf_config), "is_chief": tf_config.is_chief, "num_workers": tf_config.num_workers}
    record |= {"master": tf_config.master(), "vertex_task": task}
    (out / f"{name}.json.tmp").write_text(json.dumps(record))
    (out / f"{name}.json.tmp").rename(out / f"{name}.json")
    print(f"{name}: task {tf_config.task_type}/{tf_config.task_id} at {tf_config.master()}", flush=True)
    if not tf_config.is_chief:
        time.sleep(WAIT_FOR_PEERS_S)  # Vertex stops the other replicas once the chief exits
        return
    expected = {
        f"{POOL_TASK_TYPES[pool]}-{i}"
        for pool, hosts in cluster_spec["cluster"].items()
        for i in range(len(hosts))
    }
    deadline = time.monotonic() + WAIT_FOR_PEERS_S
    while {p.name.removesuffix(".json") for p in out.glob("*.json")} < expected:
        if time.monotonic() > deadline:
            raise SystemExit(f"not every replica reported within {WAIT_FOR_PEERS_S}s")
        time.sleep(0.05)
    print(
        f"chief: all {len(expected)} replicas resolved their TF_CONFIG; {tf_config.num_workers} workers",
        flush=True,
    )


if __name__ == "__main__":
    main()
