"""`--worker-pool-spec`, `--config`, `--args`/`--command` and `--labels` parsed as gcloud parses them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from customjobs.cli import pool_specs
from customjobs.cli.errors import CommandError, InvalidFlag

CONTAINER = "machine-type=n1-standard-4,container-image-uri=local"


def pool(value: str) -> dict[str, Any]:
    return pool_specs.build_pool(pool_specs.parse_pool_spec(value))


def error_of(value: str) -> str:
    with pytest.raises(InvalidFlag) as caught:
        pool(value)
    return str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a,b,c", ["a", "b", "c"]),
        ("-c,echo hi", ["-c", "echo hi"]),
        ("a,b,", ["a", "b"]),
        ("a,,b", ["a", "", "b"]),
        ("", []),
        ("^:^a,b:c", ["a,b", "c"]),
        ("^|^-c|print(1, 2)", ["-c", "print(1, 2)"]),
        ("^a", ["^a"]),
    ],
)
def test_split_list_follows_gcloud(value: str, expected: list[str]) -> None:
    assert pool_specs.split_list(value, "--args") == expected


def test_split_lists_concatenates_repeated_flags() -> None:
    assert pool_specs.split_lists(["a,b", "c"], "--args") == ["a", "b", "c"]


def test_empty_alternate_delimiter_is_refused() -> None:
    with pytest.raises(InvalidFlag, match=r"\[--args\]"):
        pool_specs.split_list("^^a", "--args")


def test_container_pool_defaults_to_one_replica() -> None:
    assert pool(CONTAINER) == {
        "machineSpec": {"machineType": "n1-standard-4"},
        "replicaCount": "1",
        "containerSpec": {"imageUri": "local"},
    }


def test_every_key_of_a_container_pool() -> None:
    value = (
        "machine-type=a2-highgpu-2g,replica-count=3,accelerator-type=NVIDIA_TESLA_A100,"
        "accelerator-count=2,container-image-uri=gcr.io/p/img:1"
    )
    assert pool(value) == {
        "machineSpec": {
            "machineType": "a2-highgpu-2g",
            "acceleratorType": "NVIDIA_TESLA_A100",
            "acceleratorCount": 2,
        },
        "replicaCount": "3",
        "containerSpec": {"imageUri": "gcr.io/p/img:1"},
    }


def test_accelerator_count_defaults_to_one_when_a_type_is_given() -> None:
    machine = pool(CONTAINER + ",accelerator-type=NVIDIA_TESLA_T4")["machineSpec"]
    assert machine == {
        "machineType": "n1-standard-4",
        "acceleratorType": "NVIDIA_TESLA_T4",
        "acceleratorCount": 1,
    }


def test_python_package_pool_takes_package_uris() -> None:
    spec = pool_specs.parse_pool_spec(
        "machine-type=n1-standard-4,executor-image-uri=exec:1,python-module=trainer.task"
    )
    assert pool_specs.build_pool(spec, ["gs://b/t.tar.gz"]) == {
        "machineSpec": {"machineType": "n1-standard-4"},
        "replicaCount": "1",
        "pythonPackageSpec": {
            "executorImageUri": "exec:1",
            "packageUris": ["gs://b/t.tar.gz"],
            "pythonModule": "trainer.task",
        },
    }


def test_later_keys_win_and_values_may_hold_equals() -> None:
    assert pool(CONTAINER + ",container-image-uri=img?a=b")["containerSpec"] == {"imageUri": "img?a=b"}


def test_empty_spec_is_an_empty_pool() -> None:
    assert pool_specs.parse_pool_spec("") == {}
    assert pool("") == {}


def test_empty_pools_keep_their_position() -> None:
    pools = pool_specs.build_pools([CONTAINER, "", CONTAINER + ",replica-count=2"])
    assert [p.get("replicaCount") for p in pools] == ["1", None, "2"]
    assert pools[1] == {}


def test_first_pool_must_not_be_empty() -> None:
    with pytest.raises(InvalidFlag, match="Empty value is not allowed for the first"):
        pool_specs.build_pools(["", CONTAINER])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("container-image-uri=local", "Key [machine-type] required"),
        (CONTAINER + ",accelerator-count=2", "Key [accelerator-type] required as [accelerator-count]"),
        (CONTAINER + ",accelerator-type=GPU_9000", "Found invalid value of [accelerator-type]: GPU_9000"),
        ("machine-type=m", "Exactly one of keys [executor-image-uri, container-image-uri]"),
        (
            CONTAINER + ",executor-image-uri=e",
            "Exactly one of keys [executor-image-uri, container-image-uri]",
        ),
        (CONTAINER + ",python-module=m", "Key [python-module] is not allowed together with"),
        ("machine-type=m,executor-image-uri=e", "Key [python-module] is required."),
        (CONTAINER + ",replica-count=two", "Key [replica-count] takes an integer; received: [two]"),
        (CONTAINER + ",accelerator-count=1.5", "Key [accelerator-count] takes an integer"),
        (CONTAINER + ",colour=blue", "valid keys are [accelerator-count, accelerator-type"),
        (CONTAINER + ",oops", "Bad syntax for dict arg: [oops]"),
        (CONTAINER + ",local-package-path=/src", "Key [local-package-path] is not supported"),
        (CONTAINER + ",script=run.sh", "Key [script] is not supported"),
    ],
)
def test_invalid_specs_are_refused_with_gcloud_messages(value: str, message: str) -> None:
    text = error_of(value)
    assert text.startswith("Invalid value for [--worker-pool-spec]: ")
    assert message in text


def test_labels_merge_across_flags() -> None:
    assert pool_specs.parse_labels(["a=1,b=2", "b=3"]) == {"a": "1", "b": "3"}
    with pytest.raises(InvalidFlag, match=r"\[--labels\]"):
        pool_specs.parse_labels(["novalue"])


CONFIG: dict[str, Any] = {
    "workerPoolSpecs": [
        {
            "machineSpec": {"machineType": "n1-standard-4"},
            "containerSpec": {"imageUri": "local", "args": ["x"]},
        },
        {},
        {
            "machineSpec": {"machineType": "n1-standard-4"},
            "pythonPackageSpec": {"executorImageUri": "e", "pythonModule": "m", "packageUris": ["gs://b/p"]},
        },
    ],
    "scheduling": {"timeout": "600s"},
    "baseOutputDirectory": {"outputUriPrefix": "/tmp/out"},
}


def test_config_alone_is_sent_verbatim() -> None:
    assert pool_specs.build_job_spec(CONFIG, []) == CONFIG


def test_flag_pools_replace_the_config_pools_and_keep_the_rest() -> None:
    spec = pool_specs.build_job_spec(CONFIG, [CONTAINER])
    assert spec["workerPoolSpecs"] == [pool(CONTAINER)]
    assert spec["scheduling"] == {"timeout": "600s"}
    assert spec["baseOutputDirectory"] == {"outputUriPrefix": "/tmp/out"}
    assert len(CONFIG["workerPoolSpecs"]) == 3  # the caller's config is not modified


def test_snake_case_config_pools_are_replaced_too() -> None:
    spec = pool_specs.build_job_spec({"worker_pool_specs": [{}], "network": "n"}, [CONTAINER])
    assert spec == {"network": "n", "workerPoolSpecs": [pool(CONTAINER)]}


def test_args_go_to_every_pool_and_command_to_every_container() -> None:
    spec = pool_specs.build_job_spec(CONFIG, [], args=["-c", "echo hi"], command=["sh"])
    first, skipped, package = spec["workerPoolSpecs"]
    assert first["containerSpec"] == {"imageUri": "local", "args": ["-c", "echo hi"], "command": ["sh"]}
    assert skipped == {}
    assert package["pythonPackageSpec"]["args"] == ["-c", "echo hi"]
    assert "command" not in package["pythonPackageSpec"]


def test_flags_pools_get_args_and_command() -> None:
    spec = pool_specs.build_job_spec(None, [CONTAINER, ""], args=["1"], command=["echo"])
    assert spec["workerPoolSpecs"][0]["containerSpec"] == {
        "imageUri": "local",
        "command": ["echo"],
        "args": ["1"],
    }
    assert spec["workerPoolSpecs"][1] == {}


def test_neither_config_nor_pools_is_refused() -> None:
    with pytest.raises(CommandError, match=r"^At least one of \[--config, --worker-pool-spec\]"):
        pool_specs.build_job_spec(None, [])


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"scheduling": {}}, "The config has no [workerPoolSpecs]"),
        ({"workerPoolSpecs": [{}]}, "Exactly one of fields [pythonPackageSpec, containerSpec]"),
        ({"workerPoolSpecs": [{"machineSpec": {"machineType": "m"}}]}, "Exactly one of fields"),
        ({"workerPoolSpecs": ["nope"]}, "[workerPoolSpecs][0] must be a mapping"),
        (
            {
                "workerPoolSpecs": [
                    {"containerSpec": {"imageUri": "i"}, "pythonPackageSpec": {"pythonModule": "m"}}
                ]
            },
            "Exactly one of fields",
        ),
    ],
)
def test_invalid_config_pools_are_refused(config: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidFlag) as caught:
        pool_specs.build_job_spec(config, [])
    assert str(caught.value).startswith("Invalid value for [--config]: ")
    assert message in str(caught.value)


def test_load_config_reads_camel_case_yaml(tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(
        "workerPoolSpecs:\n- machineSpec: {machineType: n1-standard-4}\n  replicaCount: 1\n"
        "  containerSpec: {imageUri: local}\nscheduling: {timeout: 600s}\n"
    )
    assert pool_specs.load_config(path) == {
        "workerPoolSpecs": [
            {
                "machineSpec": {"machineType": "n1-standard-4"},
                "replicaCount": 1,
                "containerSpec": {"imageUri": "local"},
            }
        ],
        "scheduling": {"timeout": "600s"},
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [("- a\n- b\n", "must hold a CustomJobSpec mapping"), ("a: [1\n", "is not valid YAML")],
)
def test_load_config_refuses_what_is_not_a_spec(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(text)
    with pytest.raises(InvalidFlag, match=message):
        pool_specs.load_config(path)


def test_load_config_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidFlag, match="cannot read"):
        pool_specs.load_config(tmp_path / "missing.yaml")
