"""wire/filters.py: AIP-160 filter text to domain.query nodes, and every rejection."""

from __future__ import annotations

import pytest

from customjobs.domain.query import And, Compare, Field, Not, Op, Or
from customjobs.domain.states import JobState
from customjobs.errors import InvalidArgument, RpcCode
from customjobs.wire.filters import parse_filter

# 2021-05-18T00:00:00Z in microseconds since the epoch.
MAY_18_US = 1_621_296_000_000_000


def dn(value: str, op: Op = Op.EQ) -> Compare:
    return Compare(Field.DISPLAY_NAME, op, value)


def st(state: JobState, op: Op = Op.EQ) -> Compare:
    return Compare(Field.STATE, op, state)


def label(key: str, value: str | None, op: Op = Op.EQ) -> Compare:
    return Compare(Field.LABELS, op, value, label_key=key)


def rejects(text: str) -> str:
    with pytest.raises(InvalidArgument) as info:
        parse_filter(text)
    assert info.value.code is RpcCode.INVALID_ARGUMENT
    return info.value.message


@pytest.mark.parametrize("text", ["", " ", "\t\n  "])
def test_empty_filter_is_none(text: str) -> None:
    assert parse_filter(text) is None


# --- fields and operators ------------------------------------------------------------


@pytest.mark.parametrize("name", ["display_name", "displayName"])
@pytest.mark.parametrize("op", [Op.EQ, Op.NE, Op.HAS])
def test_display_name_operators_and_aliases(name: str, op: Op) -> None:
    assert parse_filter(f'{name}{op.value}"my job"') == dn("my job", op)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("display_name=my-job", dn("my-job")),
        ("display_name:my_job_*", dn("my_job_*", Op.HAS)),
        ('display_name:"my_job_*"', dn("my_job_*", Op.HAS)),
        ("display_name:*", dn("*", Op.HAS)),
        ('display_name="a \\"quoted\\" \\\\ name"', dn('a "quoted" \\ name')),
        ('display_name="tab\\there"', dn("tab\there")),
        ('display_name=""', dn("")),
        ("display_name=AND", dn("AND")),  # a keyword is a plain word where a value is expected
        ("display_name = spaced", dn("spaced")),
        ('display_name!="ünïcode"', dn("ünïcode", Op.NE)),
    ],
)
def test_display_name_values(text: str, expected: Compare) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize("state", list(JobState))
def test_state_quoted_or_bare(state: JobState) -> None:
    assert parse_filter(f'state="{state.value}"') == st(state)
    assert parse_filter(f"state!={state.value}") == st(state, Op.NE)


@pytest.mark.parametrize("name", ["create_time", "createTime"])
@pytest.mark.parametrize("op", [Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE])
def test_create_time_operators(name: str, op: Op) -> None:
    assert parse_filter(f'{name}{op.value}"2021-05-18T00:00:00Z"') == Compare(
        Field.CREATE_TIME, op, MAY_18_US
    )


@pytest.mark.parametrize("name", ["update_time", "updateTime"])
def test_update_time(name: str) -> None:
    assert parse_filter(f'{name}<="2021-05-18T00:00:00Z"') == Compare(Field.UPDATE_TIME, Op.LE, MAY_18_US)


@pytest.mark.parametrize(
    ("stamp", "micros"),
    [
        ("2021-05-18T00:00:00Z", MAY_18_US),
        ("2021-05-18t00:00:00z", MAY_18_US),
        ("2021-05-18T05:30:00+05:30", MAY_18_US),
        ("2021-05-17T19:00:00-05:00", MAY_18_US),
        ("2021-05-18T00:00:00.5Z", MAY_18_US + 500_000),
        ("2021-05-18T00:00:00.123456Z", MAY_18_US + 123_456),
        ("2021-05-18T00:00:00.123456789Z", MAY_18_US + 123_456),  # truncated below 1 µs
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59.999999Z", -1),
    ],
)
def test_rfc3339_to_microseconds(stamp: str, micros: int) -> None:
    assert parse_filter(f'create_time="{stamp}"') == Compare(Field.CREATE_TIME, Op.EQ, micros)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("labels.keyA=valueA", label("keyA", "valueA")),
        ('labels.keyA="valueA"', label("keyA", "valueA")),
        ("labels.team!=ml", label("team", "ml", Op.NE)),
        ('labels."a-b"=x', label("a-b", "x")),
        ("labels.a-b=x", label("a-b", "x")),
        ("labels.team:ml", label("team", "ml")),  # `:` with a value is equality
        ("labels.keyB:*", label("keyB", None, Op.HAS)),
        ('labels.keyB:"*"', label("keyB", None, Op.HAS)),
        ("labels:keyB", label("keyB", None, Op.HAS)),
        ('labels:"key-b"', label("key-b", None, Op.HAS)),
    ],
)
def test_labels(text: str, expected: Compare) -> None:
    assert parse_filter(text) == expected


# --- boolean structure ---------------------------------------------------------------

A, B, C = dn("a"), dn("b"), dn("c")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("display_name=a AND display_name=b", And((A, B))),
        ("display_name=a display_name=b", And((A, B))),  # juxtaposition is AND
        ("display_name=a OR display_name=b", Or((A, B))),
        ("NOT display_name=a", Not(A)),
        ("-display_name=a", Not(A)),
        ("NOT (display_name=a OR display_name=b)", Not(Or((A, B)))),
        ("(display_name=a)", A),
        ("((display_name=a))", A),
        # OR binds tighter than AND, and tighter than juxtaposition.
        ("display_name=a AND display_name=b OR display_name=c", And((A, Or((B, C))))),
        ("display_name=a OR display_name=b AND display_name=c", And((Or((A, B)), C))),
        ("display_name=a display_name=b OR display_name=c", And((A, Or((B, C))))),
        ("(display_name=a AND display_name=b) OR display_name=c", Or((And((A, B)), C))),
        # NOT binds tighter than OR and AND.
        ("NOT display_name=a OR display_name=b", Or((Not(A), B))),
        ("-display_name=a AND display_name=b", And((Not(A), B))),
        # Same-kind nesting is flattened.
        ("display_name=a AND display_name=b AND display_name=c", And((A, B, C))),
        ("display_name=a display_name=b AND display_name=c", And((A, B, C))),
        ("display_name=a AND (display_name=b AND display_name=c)", And((A, B, C))),
        ("display_name=a OR (display_name=b OR display_name=c)", Or((A, B, C))),
        ("NOT(display_name=a)", Not(A)),
    ],
)
def test_boolean_structure(text: str, expected: object) -> None:
    assert parse_filter(text) == expected


def test_documented_examples() -> None:
    assert parse_filter('state="JOB_STATE_SUCCEEDED" AND display_name:"my_job_*"') == And(
        (st(JobState.SUCCEEDED), dn("my_job_*", Op.HAS))
    )
    assert parse_filter('state!="JOB_STATE_FAILED" OR display_name="my_job"') == Or(
        (st(JobState.FAILED, Op.NE), dn("my_job"))
    )
    assert parse_filter('NOT display_name="my_job"') == Not(dn("my_job"))
    assert parse_filter('create_time>"2021-05-18T00:00:00Z"') == Compare(Field.CREATE_TIME, Op.GT, MAY_18_US)
    assert parse_filter("labels.keyA=valueA") == label("keyA", "valueA")
    assert parse_filter("labels.keyB:*") == label("keyB", None, Op.HAS)


def test_mixed_fields() -> None:
    text = 'state=JOB_STATE_RUNNING labels:team AND (createTime>="2021-05-18T00:00:00Z" OR -labels.x=y)'
    assert parse_filter(text) == And(
        (
            st(JobState.RUNNING),
            label("team", None, Op.HAS),
            Or((Compare(Field.CREATE_TIME, Op.GE, MAY_18_US), Not(label("x", "y")))),
        )
    )


# --- rejections ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("display_name", ["end of filter", "column 13", "comparator"]),
        ("display_name=", ["end of filter", "column 14", "value"]),
        ("(display_name=a", ["end of filter", "column 16", "')'"]),
        ("display_name=a)", ["')'", "column 15"]),
        ('display_name="open', ["'\"'", "column 14"]),
        ("display_name=a AND", ["end of filter", "column 19", "field name"]),
        ("display_name=a OR", ["end of filter", "column 18"]),
        ("NOT", ["end of filter", "column 4"]),
        ("=a", ["'='", "column 1"]),
        ("display_name==a", ["'='", "column 14"]),
        ("display_name=a and state=b", ["'state'", "column 20"]),  # keywords are upper case
        ("labels.=a", ["'='", "column 8", "label key"]),
        ("labels.a.b=c", ["column 9"]),
        ("display_name=a\\b", ["column 15"]),
        ("state=JOB_STATE_RUNNING && state=JOB_STATE_FAILED", ["column 25"]),
    ],
)
def test_syntax_errors_name_the_column(text: str, fragments: list[str]) -> None:
    message = rejects(text)
    assert message.startswith("Invalid filter: ")
    for fragment in fragments:
        assert fragment in message, (fragment, message)


@pytest.mark.parametrize("text", ["foo=1", "name=x", "labels2.a=b", "display_name.x=1", "State=x"])
def test_unknown_field(text: str) -> None:
    message = rejects(text)
    assert message.startswith("Unsupported filter field ")
    assert f'"{text.split("=")[0]}"' in message
    for supported in ("display_name", "state", "create_time", "update_time", "labels"):
        assert supported in message


@pytest.mark.parametrize(
    ("text", "field", "op"),
    [
        ("display_name<a", "display_name", "<"),
        ("displayName>=a", "displayName", ">="),
        ("state:JOB_STATE_RUNNING", "state", ":"),
        ("state<JOB_STATE_RUNNING", "state", "<"),
        ('create_time:"2021-05-18T00:00:00Z"', "create_time", ":"),
        ('update_time:"2021-05-18T00:00:00Z"', "update_time", ":"),
        ("labels.k>v", "labels.k", ">"),
        ("labels.k<=v", "labels.k", "<="),
    ],
)
def test_unsupported_operator(text: str, field: str, op: str) -> None:
    message = rejects(text)
    assert f'Operator "{op}"' in message
    assert f'"{field}"' in message


@pytest.mark.parametrize("value", ["JOB_STATE_BOGUS", "RUNNING", "job_state_running", "*", ""])
def test_bad_state_value(value: str) -> None:
    message = rejects(f'state="{value}"')
    assert f'Invalid state "{value}"' in message
    assert "JOB_STATE_SUCCEEDED" in message


@pytest.mark.parametrize(
    "stamp",
    [
        "2021-05-18",
        "2021-05-18T00:00:00",  # no offset
        "2021-05-18 00:00:00Z",
        "2021-02-30T00:00:00Z",  # no such day
        "2021-05-18T24:00:00Z",
        "2021-05-18T00:00:00.1234567890Z",  # 10 fractional digits
        "2021-05-18T00:00:00+0530",
        "yesterday",
        "*",
        "1621296000",
    ],
)
def test_bad_timestamp(stamp: str) -> None:
    message = rejects(f'create_time>"{stamp}"')
    assert f'Invalid timestamp "{stamp}"' in message
    assert "RFC 3339" in message


@pytest.mark.parametrize("text", ["labels=x", "labels:*", "labels!=x", "labels<x"])
def test_labels_without_key(text: str) -> None:
    assert 'Invalid filter on "labels"' in rejects(text)
