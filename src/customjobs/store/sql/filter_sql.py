"""A parsed list filter (domain.query) as a WHERE clause over `custom_jobs`.

wire/filters.py owns the syntax; this module owns what each restriction means in SQL.
Only portable constructs (comparisons, LIKE ... ESCAPE, EXISTS) are used, so the same
clause runs on SQLite and PostgreSQL. The store makes LIKE case-sensitive on SQLite.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, not_, or_, true

from customjobs.domain.query import And, Compare, Expr, Field, Not, Op, Or
from customjobs.errors import InvalidArgument
from customjobs.store.sql.tables import custom_jobs, job_labels

_ESCAPE = "\\"

_COMPARE: dict[Op, Callable[[Any, Any], ColumnElement[bool]]] = {
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
    Op.LT: operator.lt,
    Op.LE: operator.le,
    Op.GT: operator.gt,
    Op.GE: operator.ge,
}

_TIME_COLUMNS = {Field.CREATE_TIME: custom_jobs.c.create_us, Field.UPDATE_TIME: custom_jobs.c.update_us}


def filter_clause(expr: Expr) -> ColumnElement[bool]:
    """The WHERE clause selecting the custom_jobs rows that `expr` matches."""
    match expr:
        case And(items):
            return and_(*(filter_clause(item) for item in items)) if items else true()
        case Or(items):
            return or_(*(filter_clause(item) for item in items)) if items else false()
        case Not(item):
            return not_(filter_clause(item))
        case Compare():
            return _compare(expr)
    raise TypeError(f"not a filter expression: {expr!r}")  # pragma: no cover


def _compare(c: Compare) -> ColumnElement[bool]:
    if c.field is Field.DISPLAY_NAME and isinstance(c.value, str):
        if c.op is Op.NE:
            return not_(_display_name(Op.EQ, c.value))
        if c.op in (Op.EQ, Op.HAS):
            return _display_name(c.op, c.value)
    elif c.field is Field.STATE and c.op in (Op.EQ, Op.NE) and isinstance(c.value, str):
        return _COMPARE[c.op](custom_jobs.c.state, str(c.value))
    elif c.field in _TIME_COLUMNS and c.op in _COMPARE and isinstance(c.value, int):
        return _COMPARE[c.op](_TIME_COLUMNS[c.field], c.value)
    elif c.field is Field.LABELS and c.label_key is not None:
        if c.op is Op.NE and c.value is not None:
            return not_(_label_exists(c.label_key, str(c.value)))
        if c.op in (Op.EQ, Op.HAS):
            return _label_exists(c.label_key, None if c.value is None else str(c.value))
    raise InvalidArgument(f'Unsupported filter restriction: {c.field.value} "{c.op.value}" {c.value!r}')


def _display_name(op: Op, value: str) -> ColumnElement[bool]:
    """`=`: exact, or an anchored glob if `*` appears; `:` substring, or the same glob."""
    column = custom_jobs.c.display_name
    if "*" in value:
        pattern = "%".join(_escape_like(part) for part in value.split("*"))
        return column.like(pattern, escape=_ESCAPE)
    if op is Op.HAS:
        return column.like(f"%{_escape_like(value)}%", escape=_ESCAPE)
    return column == value


def _escape_like(text: str) -> str:
    return text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")


def _label_exists(key: str, value: str | None) -> ColumnElement[bool]:
    """The job has label `key` (with `value`, unless value is None)."""
    conditions = [job_labels.c.job_id == custom_jobs.c.id, job_labels.c.key == key]
    if value is not None:
        conditions.append(job_labels.c.value == value)
    return exists().where(*conditions)
