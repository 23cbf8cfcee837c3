"""The Cloud Logging query language, as far as log readers such as gcloud use it.

Comparisons of dotted field paths (`resource.labels.job_id="123"`, `timestamp>="…"`,
`insertId>"…"`, `severity>=ERROR`, `textPayload:"loss"`) joined by AND, OR, NOT and
parentheses, OR binding tighter than AND as in every Google filter. The parsed filter
is evaluated against entries as JSON objects.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import datetime
from typing import Any

from lark import Lark, Token, Transformer, UnexpectedInput

from customjobs.errors import InvalidArgument

_GRAMMAR = r"""
?start: expr?
?expr: and_expr
?and_expr: or_expr (("AND")? or_expr)*
?or_expr: unary ("OR" unary)*
?unary: "NOT" unary -> not_
      | "-" unary -> not_
      | atom
?atom: "(" expr ")"
     | comparison
comparison: path OP value
path: SEGMENT ("." SEGMENT)*
value: STRING | WORD
SEGMENT: /[A-Za-z_][A-Za-z0-9_]*/ | STRING
OP: ">=" | "<=" | "!=" | "=~" | "!~" | "=" | ">" | "<" | ":"
WORD: /[^\s()"=<>!:]+/
STRING: /"(?:[^"\\]|\\.)*"/
%ignore /\s+/
"""

Predicate = Callable[[dict[str, Any]], bool]
_ORDER_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_SEVERITIES = ["DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY"]


def _unquote(text: str) -> str:
    return text[1:-1].replace('\\"', '"').replace("\\\\", "\\") if text.startswith('"') else text


def _lookup(entry: dict[str, Any], path: list[str]) -> Any:
    value: Any = entry
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _key(path: list[str], value: str) -> Any:
    """Values compared the way Logging compares that field."""
    if path == ["timestamp"] or path == ["receiveTimestamp"]:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InvalidArgument(f'Invalid timestamp "{value}" in filter.') from exc
    if path == ["severity"]:
        return _SEVERITIES.index(value.upper()) if value.upper() in _SEVERITIES else -1
    return value


def _compare(path: list[str], op: str, wanted: str) -> Predicate:
    target = _key(path, wanted)

    def test(entry: dict[str, Any]) -> bool:
        found = _lookup(entry, path)
        if found is None:
            return op == "!="
        if op == ":":
            return wanted.lower() in str(found).lower()
        have = _key(path, str(found))
        return bool(_ORDER_OPS[op](have, target))

    if op in ("=~", "!~"):
        raise InvalidArgument(f"Regular expression comparisons ({op}) are not supported in this filter.")
    return test


class _Build(Transformer[Token, Predicate]):
    def path(self, items: list[Token]) -> list[str]:
        return [_unquote(str(i)) for i in items]

    def value(self, items: list[Token]) -> str:
        return _unquote(str(items[0]))

    def comparison(self, items: list[Any]) -> Predicate:
        return _compare(items[0], str(items[1]), items[2])

    def and_expr(self, items: list[Predicate]) -> Predicate:
        return lambda e: all(p(e) for p in items)

    def or_expr(self, items: list[Predicate]) -> Predicate:
        return lambda e: any(p(e) for p in items)

    def not_(self, items: list[Predicate]) -> Predicate:
        inner = items[0]
        return lambda e: not inner(e)

    def start(self, items: list[Predicate]) -> Predicate:
        return items[0] if items else (lambda e: True)


_PARSER = Lark(_GRAMMAR, parser="lalr")


def parse_logging_filter(text: str) -> Predicate:
    if not text.strip():
        return lambda e: True
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as exc:
        raise InvalidArgument(f"Invalid filter: unexpected input at column {exc.column}.") from exc
    result: Predicate = _Build().transform(tree)
    return result


def equality_value(text: str, field_path: str) -> str | None:
    """The value a filter requires `field_path` to equal at its top level (e.g. the job id)."""
    for clause in text.replace("(", " ( ").split(" AND "):
        left, sep, right = clause.strip().partition("=")
        if sep and left.strip() == field_path and not right.startswith("="):
            return _unquote(right.strip())
    return None
