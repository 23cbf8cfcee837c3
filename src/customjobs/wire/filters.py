"""Vertex's customJobs.list `filter` text (an AIP-160 subset) parsed into domain.query nodes.

It exists so that the store never sees filter syntax: this module owns the grammar, the
field aliases (snake_case and camelCase), value typing (JobState names, RFC 3339 times to
microseconds) and every "bad filter" message, which reaches the client as INVALID_ARGUMENT.
AIP-160 precedence: NOT/- binds tightest, then OR, then juxtaposition, then AND (all ANDs).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from customjobs.domain.query import And, Compare, Expr, Field, Not, Op, Or
from customjobs.domain.states import JobState
from customjobs.errors import InvalidArgument

_GRAMMAR = r"""
start: expr
?expr: seq | seq (_AND seq)+          -> and_
?seq: factor | factor factor+         -> and_
?factor: term | term (_OR term)+      -> or_
?term: simple | (_NOT | _MINUS) simple -> not_
?simple: restriction | "(" expr ")"
restriction: field COMPARATOR (STRING | WORD)
field: NAME ("." (KEY | STRING))?

_AND: "AND"
_OR: "OR"
_NOT: "NOT"
_MINUS: "-"
NAME: /[A-Za-z_][A-Za-z0-9_]*/
KEY: /[^\s()"\\=!<>:.]+/
WORD: /[^\s()"\\=!<>:]+/
STRING: /"(?:[^"\\]|\\.)*"/
COMPARATOR: /<=|>=|!=|=|<|>|:/
%ignore /\s+/
"""

# The contextual lexer lets a bare value such as `my-job` or `AND` be a WORD after a comparator.
_PARSER = Lark(_GRAMMAR, parser="lalr", lexer="contextual")

_FIELDS: dict[str, Field] = {
    "display_name": Field.DISPLAY_NAME,
    "displayName": Field.DISPLAY_NAME,
    "state": Field.STATE,
    "create_time": Field.CREATE_TIME,
    "createTime": Field.CREATE_TIME,
    "update_time": Field.UPDATE_TIME,
    "updateTime": Field.UPDATE_TIME,
    "labels": Field.LABELS,
}
_SUPPORTED = "display_name, state, create_time, update_time, labels.<key>, labels:<key>"
_TIME_OPS = frozenset({Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE})
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EXPECTED = {  # lark terminal names, as a user would say them
    "NAME": "a field name",
    "LPAR": "'('",
    "COMPARATOR": "a comparator",
    "DOT": "'.'",
    "KEY": "a label key",
    "WORD": "a value",
    "STRING": "a quoted string",
    "RPAR": "')'",
    "$END": "end of filter",
}


JOB_STATES = "JOB_STATE_"
PIPELINE_STATES = "PIPELINE_STATE_"


def parse_filter(text: str, states: str = JOB_STATES) -> Expr | None:
    """The filter's expression; None when the filter is empty. Raises InvalidArgument.

    `states` is how the resource spells its states: a TrainingPipeline's are PipelineState
    names (PIPELINE_STATE_RUNNING), matched as the JobState of the same suffix."""
    if not text.strip():
        return None
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as e:
        raise InvalidArgument(_syntax_message(text, e)) from None
    node = tree.children[0]
    assert isinstance(node, Tree)
    return _build(node, states)


def _syntax_message(text: str, e: UnexpectedInput) -> str:
    """`Invalid filter: ...` with a 1-based column counted over the whole filter text."""
    if isinstance(e, UnexpectedToken):
        at_end = e.token.type == "$END"
        what = "end of filter" if at_end else repr(str(e.token))
        column = len(text.rstrip()) + 1 if at_end else (e.token.start_pos or 0) + 1
        wanted = [desc for name, desc in _EXPECTED.items() if name in e.expected]
    elif isinstance(e, UnexpectedCharacters):
        what, column, wanted = f"character {e.char!r}", (e.pos_in_stream or 0) + 1, []
    else:  # pragma: no cover - the LALR parser raises only the two above
        what, column, wanted = "input", 0, []
    hint = f"; expected {' or '.join(dict.fromkeys(wanted))}" if wanted else ""
    return f"Invalid filter: unexpected {what} at column {column}{hint}"


def _build(node: Tree[Token], states: str) -> Expr:
    if node.data == "restriction":
        field, comparator, value = node.children
        assert isinstance(field, Tree) and isinstance(comparator, Token) and isinstance(value, Token)
        return _restriction(field, Op(str(comparator)), _text(value), states)
    items = [_build(child, states) for child in node.children if isinstance(child, Tree)]
    if node.data == "not_":
        return Not(items[0])
    kind = And if node.data == "and_" else Or
    flat: list[Expr] = []
    for item in items:
        flat.extend(item.items if isinstance(item, kind) else (item,))
    return kind(tuple(flat))


def _text(token: Token) -> str:
    """A WORD as written, or a STRING without its quotes and with backslash escapes undone."""
    if token.type != "STRING":
        return str(token)
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), str(token)[1:-1], flags=re.S)


def _restriction(field_node: Tree[Token], op: Op, value: str, states: str) -> Compare:
    name_token, *rest = field_node.children
    name = str(name_token)
    key = _text(rest[0]) if rest and isinstance(rest[0], Token) else None
    field = _FIELDS.get(name)
    if field is None or (key is not None and field is not Field.LABELS):
        shown = name if key is None else f"{name}.{key}"
        raise InvalidArgument(f'Unsupported filter field "{shown}". Supported fields: {_SUPPORTED}.')
    if field is Field.LABELS:
        return _labels(key, op, value)
    if field is Field.DISPLAY_NAME:
        if op not in (Op.EQ, Op.NE, Op.HAS):
            raise InvalidArgument(_bad_op(name, op, "=, != or :"))
        return Compare(field, op, value)
    if field is Field.STATE:
        if op not in (Op.EQ, Op.NE):
            raise InvalidArgument(_bad_op(name, op, "= or !="))
        try:
            if not value.startswith(states):
                raise ValueError(value)
            return Compare(field, op, JobState(JOB_STATES + value.removeprefix(states)))
        except ValueError:
            names = ", ".join(states + s.value.removeprefix(JOB_STATES) for s in JobState)
            raise InvalidArgument(f'Invalid state "{value}" in filter. Expected one of: {names}.') from None
    if op not in _TIME_OPS:
        raise InvalidArgument(_bad_op(name, op, "=, !=, <, <=, > or >="))
    return Compare(field, op, _micros(name, value))


def _labels(key: str | None, op: Op, value: str) -> Compare:
    if key is None:  # labels:k -- the label k exists
        if op is not Op.HAS or value == "*":
            raise InvalidArgument('Invalid filter on "labels": use labels.<key>=<value> or labels:<key>.')
        return Compare(Field.LABELS, Op.HAS, None, label_key=value)
    if op is Op.HAS:  # labels.k:* -- key exists; labels.k:v -- equality
        if value == "*":
            return Compare(Field.LABELS, Op.HAS, None, label_key=key)
        return Compare(Field.LABELS, Op.EQ, value, label_key=key)
    if op not in (Op.EQ, Op.NE):
        raise InvalidArgument(_bad_op(f"labels.{key}", op, "=, != or :"))
    return Compare(Field.LABELS, op, value, label_key=key)


def _bad_op(name: str, op: Op, allowed: str) -> str:
    return f'Operator "{op.value}" is not supported for filter field "{name}"; use {allowed}.'


def _micros(name: str, value: str) -> int:
    """An RFC 3339 timestamp as integer microseconds since the epoch (truncated below 1 µs)."""
    m = _RFC3339.fullmatch(value)
    try:
        if m is None:
            raise ValueError(value)
        year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
        micro = int((m[7] or "").ljust(6, "0")[:6])
        offset = timedelta(0) if m[8] else timedelta(hours=int(m[10]), minutes=int(m[11]))
        tz = timezone(-offset if m[9] == "-" else offset)
        moment = datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:
        raise InvalidArgument(
            f'Invalid timestamp "{value}" for filter field "{name}"; '
            'expected RFC 3339, e.g. "2021-05-18T00:00:00Z".'
        ) from None
    return (moment - _EPOCH) // timedelta(microseconds=1)
