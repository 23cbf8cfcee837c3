"""customjobs.resources.custom_jobs.validation against the shared bodies in tests/validation_cases.py."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from google.cloud import aiplatform_v1, aiplatform_v1beta1
from google.protobuf import json_format
from google.protobuf.message import Message

from customjobs.resources.custom_jobs.validation import validate_custom_job

# tests/ has no __init__.py, so the shared case module is not importable from here by default.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from validation_cases import CASES, VALID_BODY, VALID_VARIANTS, labels, pool


def parse(body: dict[str, Any], message_type: Any = aiplatform_v1.CustomJob) -> Message:
    msg: Message = message_type.pb()()
    json_format.Parse(json.dumps(body), msg)
    return msg


@pytest.mark.parametrize(("body", "expected_paths"), CASES)
def test_invalid_job_reports_every_broken_field(body: dict[str, Any], expected_paths: set[str]) -> None:
    violations = validate_custom_job(parse(body))

    assert {v.field for v in violations} == expected_paths
    assert all(v.description.strip() for v in violations)


@pytest.mark.parametrize("body", VALID_VARIANTS)
def test_valid_job_passes(body: dict[str, Any]) -> None:
    assert validate_custom_job(parse(body)) == []


@pytest.mark.parametrize(("body", "expected_paths"), CASES)
def test_v1beta1_message_gives_same_result(body: dict[str, Any], expected_paths: set[str]) -> None:
    violations = validate_custom_job(parse(body, aiplatform_v1beta1.CustomJob))

    assert {v.field for v in violations} == expected_paths


def test_v1beta1_valid_job_passes() -> None:
    assert validate_custom_job(parse(VALID_BODY, aiplatform_v1beta1.CustomJob)) == []


def test_vertex_wording_for_required_and_accelerator_pair() -> None:
    body = pool(lambda p: (p.pop("replicaCount"), p["machineSpec"].update(acceleratorType="NVIDIA_L4")))

    descriptions = {v.field: v.description for v in validate_custom_job(parse(body))}

    assert descriptions == {
        "job_spec.worker_pool_specs[0].replica_count": "Required field is not set.",
        "job_spec.worker_pool_specs[0].machine_spec.accelerator_type": (
            "Both `accelerator_type` and `accelerator_count` should be specified or none."
        ),
    }


def test_each_bad_label_is_reported_with_its_key() -> None:
    violations = validate_custom_job(parse(labels({"Upper": "x", "ok": "Bad", "fine": "yes"})))

    assert [v.field for v in violations] == ["labels", "labels"]
    assert sorted("Upper" in v.description or "'ok'" in v.description for v in violations) == [True, True]


def test_reserved_label_message_says_reserved() -> None:
    (violation,) = validate_custom_job(parse(labels({"aiplatform.googleapis.com/x": "y"})))

    assert "reserved" in violation.description


def test_vertex_wording_for_machine_type_and_accelerator() -> None:
    unknown = pool(lambda p: p["machineSpec"].update(machineType="n9-imaginary-4"))
    carried = pool(
        lambda p: p["machineSpec"].update(
            machineType="e2-standard-4", acceleratorType="NVIDIA_TESLA_T4", acceleratorCount=1
        )
    )

    (bad_type,) = validate_custom_job(parse(unknown))
    (bad_gpu,) = validate_custom_job(parse(carried))

    assert bad_type.description == 'Machine type "n9-imaginary-4" is not supported.'
    assert bad_gpu.description == (
        'Accelerator "NVIDIA_TESLA_T4" is not supported for machine type "e2-standard-4".'
    )
