"""`--worker-pool-spec`, `--config`, `--args`, `--command` and `--labels`, read as gcloud reads them.

The result is a CustomJobSpec as camelCase JSON, ready to send. It follows
`gcloud ai custom-jobs create`: the YAML config is the base spec, and when
`--worker-pool-spec` flags are given their pools *replace* the config's
`workerPoolSpecs` (everything else in the config is kept). `--args` then goes to
every pool's containerSpec or pythonPackageSpec, `--command` to every containerSpec.
An empty `--worker-pool-spec=` keeps an empty pool `{}` in its position, which
skips that role. Building images from `local-package-path` is not supported.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from customjobs.cli.errors import CommandError, InvalidFlag

POOL_FLAG = "--worker-pool-spec"
CONFIG_FLAG = "--config"
_ALT_DELIM = "^"

_INT_KEYS = ("replica-count", "accelerator-count")
_SUPPORTED_KEYS = (
    "machine-type",
    "replica-count",
    "accelerator-type",
    "accelerator-count",
    "container-image-uri",
    "executor-image-uri",
    "python-module",
)
# Keys gcloud knows only for building an image from a local package.
_LOCAL_PACKAGE_KEYS = (
    "local-package-path",
    "script",
    "requirements",
    "extra-packages",
    "extra-dirs",
    "output-image-uri",
)
ACCELERATOR_TYPES = (
    "NVIDIA_A100_80GB",
    "NVIDIA_B200",
    "NVIDIA_GB200",
    "NVIDIA_H100_80GB",
    "NVIDIA_H100_MEGA_80GB",
    "NVIDIA_H200_141GB",
    "NVIDIA_L4",
    "NVIDIA_RTX_PRO_6000",
    "NVIDIA_TESLA_A100",
    "NVIDIA_TESLA_K80",
    "NVIDIA_TESLA_P100",
    "NVIDIA_TESLA_P4",
    "NVIDIA_TESLA_T4",
    "NVIDIA_TESLA_V100",
    "TPU_V2",
    "TPU_V3",
    "TPU_V4_POD",
    "TPU_V5_LITEPOD",
)


def split_list(value: str, flag: str) -> list[str]:
    """A gcloud list value: `a,b,c`, or `^:^a,b:c` for another delimiter; a trailing one is dropped."""
    delim = ","
    if value.startswith(_ALT_DELIM) and _ALT_DELIM in value[1:]:
        delim, value = value[1:].split(_ALT_DELIM, 1)
        if not delim:
            raise InvalidFlag(flag, "Invalid delimiter: `^^` names none.")
    if not value:
        return []
    if not value.endswith(delim):
        value += delim
    return value.split(delim)[:-1]


def split_lists(values: Iterable[str], flag: str) -> list[str]:
    """Repeated list flags concatenate, as gcloud's `--args a --args b` does."""
    return [item for value in values for item in split_list(value, flag)]


def parse_dict(value: str, flag: str) -> dict[str, str]:
    """A gcloud dict value `k=v,k2=v2`; later keys win. Values may contain `=`."""
    out: dict[str, str] = {}
    for item in split_list(value, flag):
        key, sep, val = item.partition("=")
        if not sep or not key:
            raise InvalidFlag(flag, f"Bad syntax for dict arg: [{item}]. Expected KEY=VALUE.")
        out[key] = val
    return out


def parse_labels(values: Iterable[str]) -> dict[str, str]:
    """`--labels k=v,k2=v2`, repeatable."""
    labels: dict[str, str] = {}
    for value in values:
        labels.update(parse_dict(value, "--labels"))
    return labels


def parse_pool_spec(value: str) -> dict[str, str]:
    """One `--worker-pool-spec` value as its raw keys; `{}` for an empty (skipped) pool."""
    spec = parse_dict(value, POOL_FLAG)
    for key, val in spec.items():
        if key in _LOCAL_PACKAGE_KEYS:
            raise InvalidFlag(
                POOL_FLAG,
                f"Key [{key}] is not supported: customjobs does not build images from a local "
                "package. Build the image yourself and pass container-image-uri (or "
                "executor-image-uri with python-module).",
            )
        if key not in _SUPPORTED_KEYS:
            valid = ", ".join(sorted(_SUPPORTED_KEYS))
            raise InvalidFlag(POOL_FLAG, f"valid keys are [{valid}]; received: {key}")
        if key in _INT_KEYS and not _is_int(val):
            raise InvalidFlag(POOL_FLAG, f"Key [{key}] takes an integer; received: [{val}]")
    return spec


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _check_pool(spec: Mapping[str, str]) -> None:
    """gcloud's client-side checks of one non-empty pool, with gcloud's messages."""
    if "machine-type" not in spec:
        raise InvalidFlag(POOL_FLAG, "Key [machine-type] required in dict arg but not provided.")
    if "accelerator-count" in spec and "accelerator-type" not in spec:
        raise InvalidFlag(POOL_FLAG, "Key [accelerator-type] required as [accelerator-count] is specified.")
    accelerator = spec.get("accelerator-type")
    if accelerator is not None and accelerator not in ACCELERATOR_TYPES:
        raise InvalidFlag(
            POOL_FLAG,
            f"Found invalid value of [accelerator-type]: {accelerator}. "
            f"Available values are [{', '.join(ACCELERATOR_TYPES)}].",
        )
    has_executor, has_container = "executor-image-uri" in spec, "container-image-uri" in spec
    if has_executor == has_container:
        raise InvalidFlag(
            POOL_FLAG, "Exactly one of keys [executor-image-uri, container-image-uri] is required."
        )
    if has_container and "python-module" in spec:
        raise InvalidFlag(
            POOL_FLAG, "Key [python-module] is not allowed together with key [container-image-uri]."
        )
    if has_executor and "python-module" not in spec:
        raise InvalidFlag(POOL_FLAG, "Key [python-module] is required.")


def build_pool(spec: Mapping[str, str], package_uris: Sequence[str] = ()) -> dict[str, Any]:
    """A WorkerPoolSpec (camelCase JSON) from one parsed `--worker-pool-spec`; `{}` stays `{}`."""
    if not spec:
        return {}
    _check_pool(spec)
    machine: dict[str, Any] = {"machineType": spec["machine-type"]}
    if spec.get("accelerator-type"):
        machine["acceleratorType"] = spec["accelerator-type"]
        machine["acceleratorCount"] = int(spec.get("accelerator-count", "1"))
    pool: dict[str, Any] = {"machineSpec": machine, "replicaCount": str(int(spec.get("replica-count", "1")))}
    if "container-image-uri" in spec:
        pool["containerSpec"] = {"imageUri": spec["container-image-uri"]}
    else:
        pool["pythonPackageSpec"] = {
            "executorImageUri": spec["executor-image-uri"],
            "packageUris": list(package_uris),
            "pythonModule": spec["python-module"],
        }
    return pool


def build_pools(values: Sequence[str], package_uris: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Every `--worker-pool-spec`, in order; the first (the primary replica) must not be empty."""
    specs = [parse_pool_spec(value) for value in values]
    if specs and not specs[0]:
        raise InvalidFlag(POOL_FLAG, "Empty value is not allowed for the first `--worker-pool-spec` flag.")
    return [build_pool(spec, package_uris) for spec in specs]


def load_config(path: Path) -> dict[str, Any]:
    """The `--config` YAML: a CustomJobSpec in camelCase, as gcloud takes it."""
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text())
    except OSError as err:
        raise InvalidFlag(CONFIG_FLAG, f"cannot read [{path}]: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise InvalidFlag(CONFIG_FLAG, f"[{path}] is not valid YAML: {err}") from err
    if not isinstance(loaded, dict):
        raise InvalidFlag(CONFIG_FLAG, f"[{path}] must hold a CustomJobSpec mapping (workerPoolSpecs, ...).")
    return loaded


def _key(message: Mapping[str, Any], camel: str) -> str:
    """The key a message uses for a field: its camelCase name, or snake_case if that is present."""
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    return snake if snake in message and camel not in message else camel


def _check_config_pools(pools: Any) -> None:
    """gcloud's check of config pools: each non-empty pool runs a container or a Python package."""
    if not isinstance(pools, list) or not pools:
        raise InvalidFlag(
            CONFIG_FLAG, f"The config has no [workerPoolSpecs]; add them or pass `{POOL_FLAG}` flags."
        )
    for index, pool in enumerate(pools):
        if not isinstance(pool, dict):
            raise InvalidFlag(CONFIG_FLAG, f"[workerPoolSpecs][{index}] must be a mapping.")
        if not pool and index > 0:
            continue  # an empty pool skips its role, as in the API
        container = pool.get(_key(pool, "containerSpec")) or {}
        package = pool.get(_key(pool, "pythonPackageSpec")) or {}
        uses_container = bool(container.get(_key(container, "imageUri")))
        uses_package = bool(
            package.get(_key(package, "executorImageUri")) or package.get(_key(package, "pythonModule"))
        )
        if uses_container == uses_package:
            raise InvalidFlag(
                CONFIG_FLAG,
                "Exactly one of fields [pythonPackageSpec, containerSpec] is required for a "
                "[workerPoolSpecs] in the YAML config file.",
            )


def apply_args_and_command(spec: dict[str, Any], args: Sequence[str], command: Sequence[str]) -> None:
    """`--args` replaces every pool's args, `--command` every container's command (as gcloud)."""
    for pool in spec.get(_key(spec, "workerPoolSpecs")) or []:
        container = pool.get(_key(pool, "containerSpec"))
        package = pool.get(_key(pool, "pythonPackageSpec"))
        if args:
            for task in (container, package):
                if task:
                    task["args"] = list(args)
        if command and container:
            container["command"] = list(command)


def build_job_spec(
    config: Mapping[str, Any] | None,
    pool_values: Sequence[str],
    args: Sequence[str] = (),
    command: Sequence[str] = (),
    package_uris: Sequence[str] = (),
) -> dict[str, Any]:
    """The CustomJobSpec to send: the config (if any), its pools replaced by the flags' (if any)."""
    if config is None and not pool_values:
        raise CommandError(f"At least one of [{CONFIG_FLAG}, {POOL_FLAG}] must be specified.")
    spec: dict[str, Any] = copy.deepcopy(dict(config or {}))
    if pool_values:
        spec.pop("worker_pool_specs", None)
        spec["workerPoolSpecs"] = build_pools(pool_values, package_uris)
    else:
        _check_config_pools(spec.get(_key(spec, "workerPoolSpecs")))
    apply_args_and_command(spec, args, command)
    return spec
