"""resources/tuning/study.py with the real Optuna: every parameter kind, scales, conditions, and
a rebuilt study (after a restart) going on where the first one was."""

from __future__ import annotations

import json
import math
from typing import Any

from customjobs.resources.tuning.codec import space_of
from customjobs.resources.tuning.study import PastTrial, Search

PARAMETERS: list[dict[str, Any]] = [
    {
        "parameterId": "lr",
        "doubleValueSpec": {"minValue": 0.001, "maxValue": 1},
        "scaleType": "UNIT_LOG_SCALE",
    },
    {
        "parameterId": "keep",
        "doubleValueSpec": {"minValue": 0.01, "maxValue": 1},
        "scaleType": "UNIT_REVERSE_LOG_SCALE",
    },
    {"parameterId": "depth", "integerValueSpec": {"minValue": 2, "maxValue": 5}},
    {"parameterId": "width", "discreteValueSpec": {"values": [16, 64, 256]}},
    {
        "parameterId": "opt",
        "categoricalValueSpec": {"values": ["sgd", "adam"]},
        "conditionalParameterSpecs": [
            {
                "parentCategoricalValues": {"values": ["sgd"]},
                "parameterSpec": {
                    "parameterId": "momentum",
                    "doubleValueSpec": {"minValue": 0, "maxValue": 0.9},
                },
            }
        ],
    },
]


def spec(parameters: list[dict[str, Any]], algorithm: str) -> str:
    pool = {
        "machineSpec": {"machineType": "n1-standard-1"},
        "replicaCount": 1,
        "containerSpec": {"imageUri": "x"},
    }
    return json.dumps(
        {
            "displayName": "s",
            "maxTrialCount": 40,
            "parallelTrialCount": 1,
            "studySpec": {
                "metrics": [{"metricId": "m", "goal": "MAXIMIZE"}],
                "parameters": parameters,
                "algorithm": algorithm,
            },
            "trialJobSpec": {"workerPoolSpecs": [pool]},
        }
    )


SPEC = spec(PARAMETERS, "RANDOM_SEARCH")


def test_every_kind_stays_in_its_space_and_conditions_hold() -> None:
    search = Search(space_of(SPEC), seed=7, past=[])
    keeps = []
    for n in range(40):
        params = search.ask().params
        assert 0.001 <= params["lr"] <= 1 and 0.01 <= params["keep"] <= 1
        assert params["depth"] in (2, 3, 4, 5) and params["width"] in (16, 64, 256)
        # momentum exists exactly when its parent is sgd
        assert ("momentum" in params) == (params["opt"] == "sgd"), params
        keeps.append(params["keep"])
        search.tell(n, (float(n),))
    # Reverse-log crowds values near the maximum: most of them lie in the top quarter of the range.
    top = sum(1 for k in keeps if k > 0.01 + 0.75 * (1 - 0.01))  # linear: a quarter
    assert top > len(keeps) / 2, keeps


def test_log_scale_spreads_over_decades() -> None:
    search = Search(space_of(SPEC), seed=3, past=[])
    decades = set()
    for n in range(40):
        decades.add(math.floor(math.log10(float(search.ask().params["lr"]))))
        search.tell(n, (0.0,))
    assert {-3, -2, -1} <= decades


def test_a_rebuilt_grid_study_never_repeats_a_point() -> None:
    discrete = [dict(p) for p in PARAMETERS[2:]]
    discrete[-1].pop("conditionalParameterSpecs")
    space = space_of(spec(discrete, "GRID_SEARCH"))
    assert space.grid_size() == 4 * 3 * 2
    first = Search(space, seed=1, past=[])
    past = []
    for n in range(10):  # 10 asked; 6 finished, 4 still running when the server died
        suggestion = first.ask()
        values = (1.0,) if n < 6 else None
        past.append(PastTrial(suggestion.params, values, False, suggestion.sampler_attrs))
    rebuilt = Search(space, seed=1, past=past)
    seen = [tuple(sorted(p.params.items())) for p in past]
    for _ in range(14):
        seen.append(tuple(sorted(rebuilt.ask().params.items())))
    assert len(set(seen)) == 24
