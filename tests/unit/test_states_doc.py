"""docs/states.md draws exactly domain.states.TRANSITIONS."""

from __future__ import annotations

import re
from pathlib import Path

from customjobs.domain.states import TERMINAL, TRANSITIONS, JobState, can_move

DOC = Path(__file__).parents[2] / "docs" / "states.md"
EDGE = re.compile(r"^\s*(JOB_STATE_\w+) --> (JOB_STATE_\w+)", re.MULTILINE)
END = re.compile(r"^\s*(JOB_STATE_\w+) --> \[\*\]", re.MULTILINE)


def test_diagram_edges_are_the_transition_table() -> None:
    text = DOC.read_text()
    drawn = {(JobState(a), JobState(b)) for a, b in EDGE.findall(text)}
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert drawn == table
    assert {JobState(s) for s in END.findall(text)} == TERMINAL


def test_terminal_states_have_no_way_out() -> None:
    for state in TERMINAL:
        assert not TRANSITIONS[state]
    assert not can_move(JobState.SUCCEEDED, JobState.RUNNING)
    assert can_move(JobState.CANCELLING, JobState.SUCCEEDED)
