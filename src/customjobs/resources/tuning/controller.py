"""The tuning controller: one pass reconciles every active HyperparameterTuningJob.

Like the scheduler with replicas, it reads facts (each trial's execution, the metric lines
its primary replica wrote), decides (finish trials, tell the search, ask it for more, end
the job) and writes the job once, compare-and-set on its revision. A new trial is recorded
before its execution is submitted, with the execution's id chosen up front: a server killed
between the two submits it on the next pass, so no trial is lost and none runs twice.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from customjobs import names
from customjobs.clock import now_us
from customjobs.domain.job import Job
from customjobs.domain.states import TERMINAL, JobState, can_move
from customjobs.domain.tuning import TuningJob
from customjobs.errors import ApiError, RpcCode
from customjobs.execution.children import ChildExecutions
from customjobs.resources.tuning import codec, stopping, trials
from customjobs.resources.tuning.study import GRID_SEARCH, PastTrial, Search
from customjobs.resources.tuning.trials import Record
from customjobs.store.outage import StoreUnavailable
from customjobs.store.sql.tuning import SqlTuningStore

log = logging.getLogger(__name__)

RUNNING_TRIAL = ("ACTIVE", "STOPPING")


def _stamp(us: int) -> str:
    ts = Timestamp()
    ts.FromMicroseconds(us)
    return str(ts.ToJsonString())


def _micros(text: str) -> int:
    ts = Timestamp()
    ts.FromJsonString(text)
    return int(ts.ToMicroseconds())


class TuningController:
    def __init__(self, store: SqlTuningStore, executions: ChildExecutions, data_dir: Path) -> None:
        self.store = store
        self.executions = executions
        self.data_dir = data_dir
        self._searches: dict[int, Search] = {}

    def run_once(self) -> int:
        """One pass over every active tuning job; returns how many there are."""
        jobs = self.store.active()
        for job in jobs:
            try:
                self._reconcile(job)
            except StoreUnavailable:
                self._searches.pop(job.id, None)
                raise  # logged once per outage by the store; the scheduler's pass ends
            except Exception:
                log.exception("tuning job %s: reconcile failed", job.id)
                self._searches.pop(job.id, None)
        live = {job.id for job in jobs}
        for job_id in set(self._searches) - live:
            del self._searches[job_id]
        return len(jobs)

    def _search(self, job: TuningJob, records: list[Record]) -> Search:
        search = self._searches.get(job.id)
        if search is None:
            metric_ids = _metric_ids(job)
            past = [_past(r, metric_ids) for r in records]
            search = self._searches[job.id] = Search(codec.space_of(job.spec_json), job.id % 2**32, past)
        return search

    def _reconcile(self, job: TuningJob) -> None:
        records = trials.load(job.trials_json)
        spec: Any = codec.parsed(job.spec_json)
        search = self._search(job, records)
        now = now_us()
        fields: dict[str, Any] = {}
        state = job.state
        if state is JobState.PENDING:
            state = JobState.RUNNING
            fields["start_us"] = now
        failed = sum(r.state == "INFEASIBLE" for r in records)
        allowed = spec.max_failed_trial_count or spec.max_trial_count
        stopping = state is JobState.CANCELLING or failed >= allowed
        changed = bool(fields)
        for index, record in enumerate(records):
            if record.state not in RUNNING_TRIAL:
                continue
            execution = self.executions.get(record.execution_id)
            if execution is None:  # recorded, then not submitted (a restart, or its key refused)
                try:
                    self._submit(job, record)
                except StoreUnavailable:
                    raise  # not the trial's fault: it is submitted when the store is back
                except ApiError as exc:
                    record.trial.update(state="INFEASIBLE", endTime=_stamp(now), infeasibleReason=exc.message)
                    search.tell(index, None)
                    changed = True
                continue
            changed |= self._read_metrics(job, record)
            if execution.state in TERMINAL:
                values = self._finish(record, execution, spec, now)
                search.tell(index, values)
                changed = True
            elif stopping:
                if record.state == "ACTIVE":
                    record.trial["state"] = "STOPPING"
                    changed = True
                self.executions.cancel(execution, "its tuning job is ending")
            elif record.state == "ACTIVE" and _losing(record, records, spec):
                record.trial["state"] = "STOPPING"
                changed = True
                log.info("tuning job %s: trial %s stopped early (automated stopping rule)", job.id, record.id)
                self.executions.cancel(execution, "stopped early by the study's automated stopping rule")
        failed = sum(r.state == "INFEASIBLE" for r in records)
        running = sum(r.state in RUNNING_TRIAL for r in records)
        added: list[Record] = []
        target = state
        if state is JobState.CANCELLING:
            target = JobState.CANCELLED if running == 0 else state
        elif failed >= allowed:
            if running == 0:
                target = JobState.FAILED
                last = next((r for r in reversed(records) if r.state == "INFEASIBLE"), None)
                fields["error_code"] = int(RpcCode.FAILED_PRECONDITION)
                fields["error_message"] = (
                    f"{failed} of {len(records)} trials failed, which reaches max_failed_trial_count "
                    f"({allowed}); the last one: {last.trial.get('infeasibleReason', '') if last else ''}"
                )
        else:
            limit = spec.max_trial_count
            if search.space.algorithm == GRID_SEARCH:
                limit = min(limit, search.space.grid_size())
            while running < spec.parallel_trial_count and len(records) < limit:
                suggestion = search.ask()
                record = self._new_record(job, len(records) + 1, suggestion.params, now)
                record.sampler = suggestion.sampler_attrs
                records.append(record)
                added.append(record)
                running += 1
            if len(records) >= limit and running == 0:
                if any(r.state == "SUCCEEDED" for r in records):
                    target = JobState.SUCCEEDED
                else:
                    target = JobState.FAILED
                    fields["error_code"] = int(RpcCode.FAILED_PRECONDITION)
                    fields["error_message"] = "No trial succeeded: every trial was infeasible."
        if target is not state and can_move(state, target):
            fields["state"] = target
            if target in TERMINAL:
                fields["end_us"] = now
        elif state is not job.state:
            fields["state"] = state
        if not (changed or added or "state" in fields):
            return
        if not self.store.update(job.id, job.revision, now, trials_json=trials.dump(records), **fields):
            self._searches.pop(job.id, None)  # lost a race (a cancel): decide again from the store
            return
        for record in added:
            try:
                self._submit(job, record)
            except StoreUnavailable:
                raise
            except ApiError as exc:  # the next pass records why (above)
                log.warning("tuning job %s: trial %s not started: %s", job.id, record.id, exc.message)
        if "state" in fields:
            log.info("tuning job %s: %s -> %s", job.id, job.state.value, fields["state"].value)

    def _new_record(self, job: TuningJob, number: int, params: dict[str, Any], now: int) -> Record:
        execution_id = names.new_id()
        trial = {
            "id": str(number),
            "state": "ACTIVE",
            "parameters": [{"parameterId": k, "value": v} for k, v in params.items()],
            "startTime": _stamp(now),
            "customJob": names.job_name(job.project, job.location, execution_id),
        }
        return Record(trial, execution_id)

    def _submit(self, job: TuningJob, record: Record) -> None:
        metrics_dir = trials.trial_dir(job, record.id, self.data_dir)
        metrics_dir.mkdir(parents=True, exist_ok=True)
        self.executions.submit(
            record.execution_id, trials.execution_for(job, record.id, record.params, metrics_dir)
        )

    def _read_metrics(self, job: TuningJob, record: Record) -> bool:
        """Record the primary replica's new metric lines as intermediate measurements."""
        path = trials.trial_dir(job, record.id, self.data_dir) / trials.PRIMARY_METRICS
        reports = trials.read_reports(path, record.seen)
        if not reports:
            return False
        start_s = _micros(record.trial["startTime"]) / 1e6
        measurements = record.trial.setdefault("measurements", [])
        for report in reports:
            measurements.append(
                {
                    "elapsedDuration": f"{max(0.0, report.timestamp - start_s):.6f}s",
                    "stepCount": str(report.step),
                    "metrics": [{"metricId": k, "value": v} for k, v in report.metrics.items()],
                }
            )
        record.seen = reports[-1].timestamp
        return True

    def _finish(self, record: Record, execution: Job, spec: Any, now: int) -> tuple[float, ...] | None:
        """End the trial as its execution ended; its final metrics (spec order), None if infeasible."""
        record.trial["endTime"] = _stamp(now)
        metric_specs = list(spec.study_spec.metrics)
        if execution.state is JobState.FAILED:
            record.trial["state"] = "INFEASIBLE"
            record.trial["infeasibleReason"] = (
                f"The trial's job failed: {execution.error_message or ''}".strip()
            )
            return None
        best = codec.enum_name(spec.study_spec, "measurement_selection_type") == "BEST_MEASUREMENT"
        final: dict[str, float] = {}
        step = "0"
        for metric in metric_specs:
            seen = [
                (float(m["value"]), measurement.get("stepCount", "0"))
                for measurement in record.trial.get("measurements", [])
                for m in measurement["metrics"]
                if m["metricId"] == metric.metric_id
            ]
            if not seen:
                record.trial["state"] = "INFEASIBLE"
                ended = "was stopped" if execution.state is JobState.CANCELLED else "ended"
                record.trial["infeasibleReason"] = (
                    f'The trial {ended} without reporting the metric "{metric.metric_id}" '
                    "(cloudml-hypertune: report_hyperparameter_tuning_metric("
                    f"hyperparameter_metric_tag='{metric.metric_id}', ...))."
                )
                return None
            if best:
                maximize = codec.enum_name(metric, "goal") == "MAXIMIZE"
                chosen = max(seen) if maximize else min(seen)
            else:
                chosen = seen[-1]
            final[metric.metric_id] = chosen[0]
            if metric is metric_specs[0]:
                step = chosen[1]
        record.trial["state"] = "SUCCEEDED"
        record.trial["finalMeasurement"] = {
            "stepCount": step,
            "metrics": [{"metricId": k, "value": v} for k, v in final.items()],
        }
        return tuple(final[m.metric_id] for m in metric_specs)


def _metric_ids(job: TuningJob) -> list[str]:
    spec: Any = codec.parsed(job.spec_json)
    return [m.metric_id for m in spec.study_spec.metrics]


def _past(record: Record, metric_ids: list[str]) -> PastTrial:
    values = None
    if record.state == "SUCCEEDED":
        final = {m["metricId"]: float(m["value"]) for m in record.trial["finalMeasurement"]["metrics"]}
        values = tuple(final[m] for m in metric_ids)
    return PastTrial(record.params, values, record.state == "INFEASIBLE", record.sampler)


def _curve(record: Record, metric_id: str, by_time: bool) -> list[stopping.Point]:
    """The trial's reports of `metric_id`, by step or by seconds since it started."""
    points = []
    for measurement in record.trial.get("measurements", []):
        for metric in measurement["metrics"]:
            if metric["metricId"] == metric_id:
                at_text = (
                    measurement.get("elapsedDuration", "0s") if by_time else measurement.get("stepCount", "0")
                )
                points.append(stopping.Point(float(str(at_text).rstrip("s")), float(metric["value"])))
    return points


def _losing(record: Record, records: list[Record], spec: Any) -> bool:
    """Whether the median automated stopping rule stops this running trial now."""
    rule = spec.study_spec.WhichOneof("automated_stopping_spec")
    if rule not in ("median_automated_stopping_spec", "decay_curve_stopping_spec"):
        return False
    by_time = getattr(spec.study_spec, rule).use_elapsed_duration
    objective = spec.study_spec.metrics[0]
    completed = [_curve(r, objective.metric_id, by_time) for r in records if r.state == "SUCCEEDED"]
    maximize = codec.enum_name(objective, "goal") == "MAXIMIZE"
    decide = stopping.should_stop if rule == "median_automated_stopping_spec" else stopping.decay_should_stop
    return decide(_curve(record, objective.metric_id, by_time), completed, maximize)
