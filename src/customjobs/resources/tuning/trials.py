"""A tuning job's trials: the stored records, the execution each one runs, its measurements.

Each record holds the official Trial message (proto JSON) and what only this server needs:
the id of the execution running it and the sampler's attributes for the rebuild. A trial's
execution is the tuning job's `trialJobSpec` as a CustomJob spec, with Vertex's additions:
`--<parameterId>=<value>` after each pool's args, CLOUD_ML_TRIAL_ID, outputs under
`<baseOutputDirectory>/<trialId>/`, and a metric file of its own per replica
(CLOUD_ML_HP_METRIC_FILE), which the unmodified cloudml-hypertune writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from customjobs.domain.job import NewJob
from customjobs.domain.tuning import TuningJob
from customjobs.execution.environment import local_output_path
from customjobs.resources.tuning.codec import enum_name, parsed
from customjobs.resources.tuning.study import Value
from customjobs.wire.messages import types_for

# The primary replica's file is the one whose reports count, as on Vertex.
PRIMARY_METRICS = "workerpool0-0.metrics"
# Pools 0 and 1 have RANK (one file per replica); the others share a file per pool.
_RANKED_POOLS = (0, 1)


@dataclass
class Record:
    trial: dict[str, Any]  # google.cloud.aiplatform.v1.Trial, proto JSON
    execution_id: int
    sampler: dict[str, Any] = field(default_factory=dict)
    # The timestamp of the last metric line already recorded (the file keeps only 100 lines).
    seen: float = 0.0

    @property
    def id(self) -> str:
        return str(self.trial["id"])

    @property
    def state(self) -> str:
        return str(self.trial.get("state", "STATE_UNSPECIFIED"))

    @property
    def params(self) -> dict[str, Value]:
        return {p["parameterId"]: p["value"] for p in self.trial.get("parameters", [])}

    def to_json(self) -> dict[str, Any]:
        return {
            "trial": self.trial,
            "executionId": str(self.execution_id),
            "sampler": self.sampler,
            "seen": self.seen,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        return cls(
            data["trial"], int(data["executionId"]), data.get("sampler", {}), float(data.get("seen", 0.0))
        )


def load(trials_json: str) -> list[Record]:
    return [Record.from_json(r) for r in json.loads(trials_json)]


def dump(records: list[Record]) -> str:
    return json.dumps([r.to_json() for r in records], separators=(",", ":"))


def trials_of(trials_json: str) -> list[dict[str, Any]]:
    """The Trial messages alone (proto JSON), for answers."""
    return [r.trial for r in load(trials_json)]


def owner_of(job: TuningJob) -> str:
    return f"hyperparameterTuningJobs/{job.id}"


def trial_dir(job: TuningJob, trial_id: str, data_dir: Path) -> Path:
    """Where a trial's metric files go: under its own output directory when that is local (so a
    container sees it through the same bind mount), else in the server's data folder."""
    base = _base_output(job)
    if base and not base.startswith("gs://"):
        return Path(local_output_path(base)) / trial_id / "hypertune"
    return data_dir / "tuning" / str(job.id) / trial_id


def _base_output(job: TuningJob) -> str:
    spec: Any = parsed(job.spec_json)
    return str(spec.trial_job_spec.base_output_directory.output_uri_prefix)


def trial_output_base(job: TuningJob, trial_id: str) -> str:
    """A trial's baseOutputDirectory: <the study's>/<trialId>/, or "" when the study has none."""
    base = _base_output(job)
    return base.rstrip("/") + f"/{trial_id}/" if base else ""


def best_trial_id(job: TuningJob) -> str | None:
    """The SUCCEEDED trial with the best final value of the study's first metric, by its goal."""
    study: Any = parsed(job.spec_json)
    metric = study.study_spec.metrics[0]
    maximize = enum_name(metric, "goal") == "MAXIMIZE"
    scored = [
        (float(m.get("value", 0.0)), t["id"])  # proto3 JSON leaves a value of 0 out
        for t in trials_of(job.trials_json)
        if t.get("state") == "SUCCEEDED"
        for m in t.get("finalMeasurement", {}).get("metrics", [])
        if m["metricId"] == metric.metric_id
    ]
    if not scored:
        return None
    return str((max if maximize else min)(scored)[1])


def format_arg(value: Value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value)


def execution_for(job: TuningJob, trial_id: str, params: dict[str, Value], metrics_dir: Path) -> NewJob:
    """The CustomJob spec that runs trial `trial_id` with `params`."""
    study: Any = parsed(job.spec_json)
    custom = types_for("v1").custom_job()
    custom.display_name = f"{job.display_name[:100]}-trial-{trial_id}"
    custom.job_spec.CopyFrom(study.trial_job_spec)
    custom.labels.update(job.labels)
    if study.HasField("encryption_spec"):  # the trial's spec and logs are sealed with the job's key
        custom.encryption_spec.kms_key_name = study.encryption_spec.kms_key_name
    args = [f"--{name}={format_arg(value)}" for name, value in params.items()]
    for index, pool in enumerate(custom.job_spec.worker_pool_specs):
        if not pool.ListFields():
            continue
        task = pool.container_spec if pool.HasField("container_spec") else pool.python_package_spec
        task.args.extend(args)
        metric_file = metrics_dir / (
            f"workerpool{index}-$(RANK).metrics" if index in _RANKED_POOLS else f"workerpool{index}.metrics"
        )
        task.env.add(name="CLOUD_ML_TRIAL_ID", value=trial_id)
        task.env.add(name="CLOUD_ML_HP_METRIC_FILE", value=str(metric_file))
    base = trial_output_base(job, trial_id)
    if base:
        custom.job_spec.base_output_directory.output_uri_prefix = base
    return NewJob(
        project=job.project,
        location=job.location,
        display_name=custom.display_name,
        labels=dict(job.labels),
        spec_json=json_format.MessageToJson(custom, indent=None),
        owner=owner_of(job),
    )


@dataclass(frozen=True)
class Report:
    """One line cloudml-hypertune wrote: when, at which step, which metrics."""

    timestamp: float
    step: int
    metrics: dict[str, float]


def read_reports(path: Path, after: float) -> list[Report]:
    """The lines newer than `after`; a line being rewritten at this moment is read next time."""
    try:
        text = path.read_text()
    except (FileNotFoundError, UnicodeDecodeError):
        return []
    reports = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
            timestamp = float(entry.pop("timestamp"))
            step = int(entry.pop("global_step", 0) or 0)
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if timestamp <= after:
            continue
        entry.pop("trial", None)
        entry.pop("checkpoint_path", None)
        metrics = {}
        for tag, value in entry.items():
            try:
                metrics[tag] = float(value)
            except (TypeError, ValueError):
                continue
        if metrics:
            reports.append(Report(timestamp, step, metrics))
    return sorted(reports, key=lambda r: r.timestamp)
