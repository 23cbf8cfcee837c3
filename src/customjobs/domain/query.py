"""A parsed list filter: what the store must match, free of any syntax.

wire/filters.py turns Vertex's AIP-160 filter text into these nodes (field names
normalised, values typed); store/sql/filter_sql.py turns them into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from customjobs.domain.states import JobState


class Field(StrEnum):
    DISPLAY_NAME = "display_name"
    STATE = "state"
    CREATE_TIME = "create_time"
    UPDATE_TIME = "update_time"
    LABELS = "labels"


class Op(StrEnum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    HAS = ":"


@dataclass(frozen=True)
class Compare:
    """One restriction.

    value by field: DISPLAY_NAME a str (may hold '*' wildcards); STATE a JobState;
    CREATE_TIME/UPDATE_TIME microseconds since the epoch; LABELS the label value, or
    None for `labels.k:*` (the key exists). label_key is set only for LABELS.
    """

    field: Field
    op: Op
    value: str | int | JobState | None
    label_key: str | None = None


@dataclass(frozen=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    item: Expr


Expr = Compare | And | Or | Not
