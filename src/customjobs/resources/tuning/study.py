"""The search, by Optuna: a StudySpec as an Optuna study, asked for trials and told results.

Vertex's algorithms map to Optuna's samplers: ALGORITHM_UNSPECIFIED (Vertex's Bayesian
default) to TPE, GRID_SEARCH to its grid sampler, RANDOM_SEARCH to its random sampler.
The study lives in memory; after a restart it is rebuilt from the stored trials (their
parameters, results and the sampler's own attributes), so the search goes on where it was.

Parameters are searched in Optuna's space ("internal" values): a reverse-log parameter,
which Optuna has no scale for, is searched log-scaled as `min + max - x`, so its values
crowd near the maximum as Vertex's UNIT_REVERSE_LOG_SCALE does.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState, create_trial

optuna.logging.set_verbosity(optuna.logging.WARNING)

Value = float | int | str
GRID_SEARCH, RANDOM_SEARCH = "GRID_SEARCH", "RANDOM_SEARCH"
LOG, REVERSE_LOG = "UNIT_LOG_SCALE", "UNIT_REVERSE_LOG_SCALE"


@dataclass(frozen=True)
class Param:
    """One parameter spec as this module uses it (from StudySpec.ParameterSpec)."""

    id: str
    kind: str  # double, integer, categorical, discrete
    low: float = 0.0
    high: float = 0.0
    values: tuple[Value, ...] = ()
    scale: str = ""
    # (parent values that switch them on, child params): conditional_parameter_specs.
    children: tuple[tuple[tuple[Value, ...], tuple[Param, ...]], ...] = ()

    def distribution(self) -> BaseDistribution:
        if self.kind in ("categorical", "discrete"):
            return CategoricalDistribution(list(self.values))
        log = self.scale in (LOG, REVERSE_LOG)
        if self.kind == "integer":
            return IntDistribution(int(self.low), int(self.high), log=log)
        return FloatDistribution(self.low, self.high, log=log)

    def to_internal(self, value: Value) -> Value:
        if self.scale == REVERSE_LOG and self.kind in ("double", "integer"):
            flipped = self.low + self.high - float(value)
            return int(flipped) if self.kind == "integer" else flipped
        return value

    to_user = to_internal  # the flip is its own inverse

    def grid(self) -> list[Value]:
        if self.kind == "integer":
            return list(range(int(self.low), int(self.high) + 1))
        return list(self.values)


@dataclass(frozen=True)
class Space:
    params: tuple[Param, ...]
    directions: tuple[str, ...]  # "maximize" / "minimize", one per metric, in the spec's order
    algorithm: str

    def walk(self, chosen: dict[str, Value]) -> Iterator[Param]:
        """Every parameter that applies, given the values chosen so far (parents first)."""
        pending = list(self.params)
        while pending:
            param = pending.pop(0)
            yield param
            for parent_values, children in param.children:
                if param.id in chosen and chosen[param.id] in parent_values:
                    pending[:0] = children

    def all_params(self) -> Iterator[Param]:
        stack = list(self.params)
        while stack:
            param = stack.pop(0)
            yield param
            for _, children in param.children:
                stack.extend(children)

    def grid_size(self) -> int:
        return math.prod(len(p.grid()) for p in self.all_params())


@dataclass
class Suggestion:
    number: int  # the Optuna trial's number
    params: dict[str, Value]  # in the user's space
    sampler_attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PastTrial:
    """A stored trial, as the rebuild needs it."""

    params: dict[str, Value]  # the user's space
    values: tuple[float, ...] | None  # its final metrics (spec order); None while it runs
    failed: bool
    sampler_attrs: dict[str, Any]


class Search:
    """One tuning job's study: ask for the next parameters, tell how a trial ended."""

    def __init__(self, space: Space, seed: int, past: list[PastTrial]) -> None:
        self.space = space
        self.study = optuna.create_study(
            directions=list(space.directions),  # type: ignore[arg-type]
            sampler=_sampler(space, seed),
        )
        for trial in past:
            self.study.add_trial(self._frozen(trial))

    def ask(self) -> Suggestion:
        trial = self.study.ask()
        chosen: dict[str, Value] = {}
        for param in self.space.walk(chosen):
            internal = _suggest(trial, param)
            chosen[param.id] = param.to_user(internal)
        attrs = dict(self.study._storage.get_trial_system_attrs(trial._trial_id))
        return Suggestion(trial.number, chosen, attrs)

    def tell(self, number: int, values: tuple[float, ...] | None) -> None:
        """A finished trial's final metrics; None: it failed or was infeasible."""
        if values is None:
            self.study.tell(number, state=TrialState.FAIL)
        else:
            self.study.tell(number, list(values))

    def _frozen(self, trial: PastTrial) -> optuna.trial.FrozenTrial:
        by_id = {p.id: p for p in self.space.all_params()}
        params = {k: by_id[k].to_internal(v) for k, v in trial.params.items() if k in by_id}
        distributions = {k: by_id[k].distribution() for k in params}
        if trial.values is not None:
            state = TrialState.COMPLETE
        else:
            state = TrialState.FAIL if trial.failed else TrialState.RUNNING
        return create_trial(
            params=params,
            distributions=distributions,
            values=list(trial.values) if trial.values is not None else None,
            state=state,
            system_attrs=trial.sampler_attrs,
        )


class _Grid(optuna.samplers.GridSampler):
    """Optuna's grid sampler, minus its stop at the end of the grid: `Study.stop` works only
    inside `optimize`, and here the controller stops asking once the grid is enumerated."""

    def after_trial(self, *_: Any) -> None:
        return None


def _sampler(space: Space, seed: int) -> optuna.samplers.BaseSampler:
    if space.algorithm == GRID_SEARCH:
        grid = {p.id: [p.to_internal(v) for v in p.grid()] for p in space.all_params()}
        return _Grid(grid, seed=seed)
    if space.algorithm == RANDOM_SEARCH:
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=5)


def _suggest(trial: optuna.Trial, param: Param) -> Value:
    distribution = param.distribution()
    if isinstance(distribution, CategoricalDistribution):
        choice = trial.suggest_categorical(param.id, distribution.choices)  # type: ignore[arg-type]
        assert choice is not None
        return choice
    if isinstance(distribution, IntDistribution):
        return trial.suggest_int(param.id, distribution.low, distribution.high, log=distribution.log)
    assert isinstance(distribution, FloatDistribution)
    return trial.suggest_float(param.id, distribution.low, distribution.high, log=distribution.log)
