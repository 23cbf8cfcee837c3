"""resources/tuning/stopping.py: the median rule and the decay-curve rule on made-up curves."""

from __future__ import annotations

import pytest

from customjobs.resources.tuning.stopping import Point, decay_should_stop, predicted_final, should_stop


def curve(*values: float) -> list[Point]:
    return [Point(float(step), value) for step, value in enumerate(values, 1)]


def test_the_decay_fit_extrapolates_a_flattening_curve() -> None:
    learning = [Point(t, 0.9 - 0.5 / t) for t in (1.0, 2.0, 3.0, 4.0)]
    assert predicted_final(learning, 20.0) == pytest.approx(0.9 - 0.5 / 20)


def test_the_decay_rule_stops_a_trial_headed_below_the_best_and_keeps_one_headed_above() -> None:
    done = [curve(0.2, 0.5, 0.7, 0.8, 0.85), curve(0.1, 0.3, 0.4, 0.5, 0.55), curve(0.3, 0.6, 0.8, 0.9, 0.92)]
    assert decay_should_stop(curve(0.05, 0.1, 0.12), done, maximize=True)
    assert not decay_should_stop(curve(0.3, 0.7, 0.85), done, maximize=True)
    assert not decay_should_stop(curve(0.05, 0.1), done, maximize=True)  # too few points yet
    assert not decay_should_stop(curve(0.05, 0.1, 0.12), done[:2], maximize=True)  # too few completed


def test_the_median_rule_compares_running_averages_up_to_the_same_step() -> None:
    done = [curve(1, 2, 3, 9), curve(1, 2, 3, 9), curve(2, 2, 2, 2)]
    # Up to step 2 the completed averages are 1.5, 1.5, 2: median 1.5.
    assert should_stop(curve(1.0, 1.4), done, maximize=True)
    assert not should_stop(curve(1.0, 1.6), done, maximize=True)
    assert should_stop(curve(3.0, 1.6), done, maximize=False)
