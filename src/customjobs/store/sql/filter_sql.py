"""A parsed list filter (domain.query) as a WHERE clause over a job table (customJobs, tuning jobs).

wire/filters.py owns the syntax; this module owns what each restriction means in SQL.
Only portable constructs (comparisons, LIKE ... ESCAPE, EXISTS) are used, so the same
clause runs on SQLite and PostgreSQL. The store makes LIKE case-sensitive on SQLite.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, exists, false, not_, or_, true

from customjobs.domain.query import And, Compare, Expr, Field, Not, Op, Or
from customjobs.errors import InvalidArgument
from customjobs.store.sql.tables import (
    custom_jobs,
    job_labels,
    model_labels,
    model_versions,
    training_pipeline_labels,
    training_pipelines,
    tuning_job_labels,
    tuning_jobs,
)

_ESCAPE = "\\"

_COMPARE: dict[Op, Callable[[Any, Any], ColumnElement[bool]]] = {
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
    Op.LT: operator.lt,
    Op.LE: operator.le,
    Op.GT: operator.gt,
    Op.GE: operator.ge,
}


@dataclass(frozen=True)
class Filtered:
    """A resource's table and its labels table: every listed resource filters the same fields
    (a Model has no state: a filter on it is refused)."""

    table: Table
    labels: Table


CUSTOM_JOBS = Filtered(custom_jobs, job_labels)
TUNING_JOBS = Filtered(tuning_jobs, tuning_job_labels)
PIPELINES = Filtered(training_pipelines, training_pipeline_labels)
MODELS = Filtered(model_versions, model_labels)


def filter_clause(expr: Expr, target: Filtered = CUSTOM_JOBS) -> ColumnElement[bool]:
    """The WHERE clause selecting the rows of `target` that `expr` matches."""
    match expr:
        case And(items):
            return and_(*(filter_clause(item, target) for item in items)) if items else true()
        case Or(items):
            return or_(*(filter_clause(item, target) for item in items)) if items else false()
        case Not(item):
            return not_(filter_clause(item, target))
        case Compare():
            return _compare(expr, target)
    raise TypeError(f"not a filter expression: {expr!r}")  # pragma: no cover


def _compare(c: Compare, target: Filtered) -> ColumnElement[bool]:
    table = target.table
    times = {Field.CREATE_TIME: table.c.create_us, Field.UPDATE_TIME: table.c.update_us}
    if c.field is Field.DISPLAY_NAME and isinstance(c.value, str):
        if c.op is Op.NE:
            return not_(_display_name(table, Op.EQ, c.value))
        if c.op in (Op.EQ, Op.HAS):
            return _display_name(table, c.op, c.value)
    elif c.field is Field.STATE and c.op in (Op.EQ, Op.NE) and isinstance(c.value, str) and _has_state(table):
        return _COMPARE[c.op](table.c.state, str(c.value))
    elif c.field in times and c.op in _COMPARE and isinstance(c.value, int):
        return _COMPARE[c.op](times[c.field], c.value)
    elif c.field is Field.LABELS and c.label_key is not None:
        if c.op is Op.NE and c.value is not None:
            return not_(_label_exists(target, c.label_key, str(c.value)))
        if c.op in (Op.EQ, Op.HAS):
            return _label_exists(target, c.label_key, None if c.value is None else str(c.value))
    raise InvalidArgument(f'Unsupported filter restriction: {c.field.value} "{c.op.value}" {c.value!r}')


def _has_state(table: Table) -> bool:
    return "state" in table.c


def _display_name(table: Table, op: Op, value: str) -> ColumnElement[bool]:
    """`=`: exact, or an anchored glob if `*` appears; `:` substring, or the same glob."""
    column = table.c.display_name
    if "*" in value:
        pattern = "%".join(_escape_like(part) for part in value.split("*"))
        return column.like(pattern, escape=_ESCAPE)
    if op is Op.HAS:
        return column.like(f"%{_escape_like(value)}%", escape=_ESCAPE)
    return column == value


def _escape_like(text: str) -> str:
    return text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")


def _label_exists(target: Filtered, key: str, value: str | None) -> ColumnElement[bool]:
    """The job has label `key` (with `value`, unless value is None)."""
    labels = target.labels
    conditions = [labels.c.job_id == target.table.c.id, labels.c.key == key]
    if value is not None:
        conditions.append(labels.c.value == value)
    return exists().where(*conditions)
