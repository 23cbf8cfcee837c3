"""Create-time validation of a CustomJob, reporting every bad field the way Vertex does.

The proto definitions mark fields REQUIRED but nothing enforces that when a request is
parsed, and Vertex rejects a whole class of jobs (empty primary pool, half-given
accelerators, bad labels...) before it ever queues them. A client written against
Vertex expects one 400 listing *all* of those problems with snake_case paths relative to
the CustomJob, so this module collects violations instead of raising at the first one.

It works on the raw protobuf message through field names shared by v1 and v1beta1, so
one validator serves both API versions.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from google.protobuf.message import Message

from customjobs.domain.machines import accelerator_problem, machine_type
from customjobs.domain.placement import PRIORITY_LABEL, is_priority
from customjobs.errors import FieldViolation

REQUIRED = "Required field is not set."

MAX_DISPLAY_NAME_CHARS = 128
MAX_WORKER_POOLS = 4
MAX_ENV_VARS = 100
MAX_PACKAGE_URIS = 100
MIN_BOOT_DISK_GB, MAX_BOOT_DISK_GB = 100, 64000
BOOT_DISK_TYPES = frozenset({"pd-ssd", "pd-standard", "hyperdisk-balanced"})
MAX_LABELS = 64
MAX_LABEL_CHARS = 63
RESERVED_LABEL_PREFIX = "aiplatform.googleapis.com/"
# Local paths are our extension: jobs here may run on a machine with no GCS access.
OUTPUT_URI_PREFIXES = ("gs://", "file://", "/")
FLEX_START_MAX_TIMEOUT_S = 7 * 24 * 3600

# Enum numbers, identical in v1 and v1beta1.
_ACCELERATOR_TYPE_UNSPECIFIED = 0
_RESERVATION_TYPE_UNSPECIFIED = 0
_SPECIFIC_RESERVATION = 3
_STRATEGY_FLEX_START = 6

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KMS_KEY_NAME = re.compile(r"projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+")


def validate_custom_job(job: Message) -> list[FieldViolation]:
    """All violations of a v1 or v1beta1 CustomJob, in a stable order; empty when valid."""
    return validate_job_resource(job, "job_spec")


def validate_job_resource(job: Message, spec_field: str) -> list[FieldViolation]:
    """What every job resource shares (display name, its CustomJobSpec at `spec_field`, labels,
    encryption): a CustomJob's `job_spec`, a tuning job's `trial_job_spec`."""
    out: list[FieldViolation] = []
    j: Any = job
    _check_display_name(j.display_name, out)
    if j.HasField(spec_field):
        _check_job_spec(getattr(j, spec_field), spec_field, out)
    else:
        out.append(FieldViolation(spec_field, REQUIRED))
    _check_labels(dict(j.labels), out)
    if j.HasField("encryption_spec"):
        _check_encryption_spec(j.encryption_spec, "encryption_spec", out)
    return out


def job_spec_violations(spec: Any, path: str) -> list[FieldViolation]:
    """A CustomJobSpec held elsewhere (a pipeline's training task inputs), paths under `path`."""
    out: list[FieldViolation] = []
    _check_job_spec(spec, path, out)
    return out


def common_violations(resource: Any, prefix: str = "") -> list[FieldViolation]:
    """The display name, labels and encryption spec of any resource (a Model, a pipeline)."""
    out: list[FieldViolation] = []
    _check_display_name(resource.display_name, out, f"{prefix}display_name")
    _check_labels(dict(resource.labels), out, f"{prefix}labels")
    if resource.HasField("encryption_spec"):
        _check_encryption_spec(resource.encryption_spec, f"{prefix}encryption_spec", out)
    return out


def _check_display_name(name: str, out: list[FieldViolation], path: str = "display_name") -> None:
    if not name:
        out.append(FieldViolation(path, REQUIRED))
    elif len(name) > MAX_DISPLAY_NAME_CHARS:
        out.append(FieldViolation(path, f"Must be at most {MAX_DISPLAY_NAME_CHARS} characters long."))


def _check_job_spec(spec: Any, path: str, out: list[FieldViolation]) -> None:
    pools = list(spec.worker_pool_specs)
    pools_path = f"{path}.worker_pool_specs"
    if not pools:
        out.append(FieldViolation(pools_path, REQUIRED))
    elif len(pools) > MAX_WORKER_POOLS:
        out.append(FieldViolation(pools_path, f"At most {MAX_WORKER_POOLS} worker pools are allowed."))
    for i, pool in enumerate(pools):
        _check_worker_pool(pool, i, f"{pools_path}[{i}]", out)
    if spec.HasField("scheduling"):
        _check_scheduling(spec.scheduling, f"{path}.scheduling", out)
    if spec.service_account and "@" not in spec.service_account:
        out.append(FieldViolation(f"{path}.service_account", "Must be a service account email address."))
    if spec.HasField("base_output_directory"):
        _check_output_directory(spec.base_output_directory, f"{path}.base_output_directory", out)


def _check_worker_pool(pool: Any, index: int, path: str, out: list[FieldViolation]) -> None:
    # Vertex lets callers skip a role with `{}` (e.g. no parameter server), but the
    # primary pool is the one whose exit decides the job, so it must be real.
    if not pool.ListFields():
        if index == 0:
            out.append(FieldViolation(path, "The primary worker pool (workerpool0) must not be empty."))
        return
    _check_machine_spec(pool.machine_spec, f"{path}.machine_spec", out)
    _check_replica_count(pool.replica_count, index, f"{path}.replica_count", out)
    task = pool.WhichOneof("task")
    if task is None:
        out.append(
            FieldViolation(path, "Exactly one of fields [container_spec, python_package_spec] is required.")
        )
    elif task == "container_spec":
        _check_container_spec(pool.container_spec, f"{path}.container_spec", out)
    else:
        _check_python_package_spec(pool.python_package_spec, f"{path}.python_package_spec", out)
    for k, mount in enumerate(pool.nfs_mounts):
        _check_nfs_mount(mount, f"{path}.nfs_mounts[{k}]", out)
    if pool.HasField("disk_spec"):
        _check_disk_spec(pool.disk_spec, f"{path}.disk_spec", out)


def _check_replica_count(count: int, index: int, path: str, out: list[FieldViolation]) -> None:
    # proto3 cannot tell an explicit 0 from a missing value, so both read as "not set".
    if count == 0:
        out.append(FieldViolation(path, REQUIRED))
    elif count < 0:
        out.append(FieldViolation(path, "Must be a positive integer."))
    elif index == 0 and count != 1:
        out.append(FieldViolation(path, "The primary worker pool (workerpool0) must have exactly 1 replica."))


def _check_machine_spec(spec: Any, path: str, out: list[FieldViolation]) -> None:
    if not spec.machine_type:
        out.append(FieldViolation(f"{path}.machine_type", REQUIRED))
    elif machine_type(spec.machine_type) is None:
        out.append(
            FieldViolation(f"{path}.machine_type", f'Machine type "{spec.machine_type}" is not supported.')
        )
    if spec.accelerator_count < 0:
        out.append(FieldViolation(f"{path}.accelerator_count", "Must not be negative."))
    elif (spec.accelerator_type != _ACCELERATOR_TYPE_UNSPECIFIED) != (spec.accelerator_count > 0):
        out.append(
            FieldViolation(
                f"{path}.accelerator_type",
                "Both `accelerator_type` and `accelerator_count` should be specified or none.",
            )
        )
    elif spec.accelerator_count > 0:
        _check_accelerator(spec, path, out)
    if spec.HasField("reservation_affinity"):
        _check_reservation_affinity(spec.reservation_affinity, f"{path}.reservation_affinity", out)


def _check_accelerator(spec: Any, path: str, out: list[FieldViolation]) -> None:
    """Whether the machine type can carry the accelerators (domain/machines.py has the rules)."""
    machine = machine_type(spec.machine_type)
    if machine is None:
        return  # already reported
    enum = spec.DESCRIPTOR.fields_by_name["accelerator_type"].enum_type
    value = enum.values_by_number.get(spec.accelerator_type)
    name = value.name if value is not None else str(spec.accelerator_type)
    problem = accelerator_problem(machine, name, spec.accelerator_count)
    if problem is not None:
        field = "accelerator_type" if name not in machine.accelerators else "accelerator_count"
        out.append(FieldViolation(f"{path}.{field}", problem))


def _check_reservation_affinity(affinity: Any, path: str, out: list[FieldViolation]) -> None:
    kind = affinity.reservation_affinity_type
    if kind == _RESERVATION_TYPE_UNSPECIFIED:
        out.append(FieldViolation(f"{path}.reservation_affinity_type", REQUIRED))
    elif kind == _SPECIFIC_RESERVATION:
        if not affinity.key:
            out.append(FieldViolation(f"{path}.key", "Required for SPECIFIC_RESERVATION."))
        if not affinity.values:
            out.append(FieldViolation(f"{path}.values", "Required for SPECIFIC_RESERVATION."))


def _check_container_spec(spec: Any, path: str, out: list[FieldViolation]) -> None:
    if not spec.image_uri:
        out.append(FieldViolation(f"{path}.image_uri", REQUIRED))
    _check_env(spec.env, f"{path}.env", out)


def _check_python_package_spec(spec: Any, path: str, out: list[FieldViolation]) -> None:
    if not spec.executor_image_uri:
        out.append(FieldViolation(f"{path}.executor_image_uri", REQUIRED))
    uris = list(spec.package_uris)
    if not uris:
        out.append(FieldViolation(f"{path}.package_uris", REQUIRED))
    elif len(uris) > MAX_PACKAGE_URIS:
        out.append(FieldViolation(f"{path}.package_uris", f"At most {MAX_PACKAGE_URIS} URIs are allowed."))
    for k, uri in enumerate(uris):
        if not uri:
            out.append(FieldViolation(f"{path}.package_uris[{k}]", "Must not be empty."))
    if not spec.python_module:
        out.append(FieldViolation(f"{path}.python_module", REQUIRED))
    _check_env(spec.env, f"{path}.env", out)


def _check_env(env: Any, path: str, out: list[FieldViolation]) -> None:
    if len(env) > MAX_ENV_VARS:
        out.append(FieldViolation(path, f"At most {MAX_ENV_VARS} environment variables are allowed."))
    seen: set[str] = set()
    for k, var in enumerate(env):
        name_path = f"{path}[{k}].name"
        if not var.name:
            out.append(FieldViolation(name_path, REQUIRED))
        elif not _ENV_NAME.fullmatch(var.name):
            out.append(FieldViolation(name_path, f"'{var.name}' is not a valid C identifier."))
        elif var.name in seen:
            out.append(FieldViolation(name_path, f"Duplicate environment variable name '{var.name}'."))
        seen.add(var.name)
        if not var.value:
            out.append(FieldViolation(f"{path}[{k}].value", REQUIRED))


def _check_disk_spec(spec: Any, path: str, out: list[FieldViolation]) -> None:
    size = spec.boot_disk_size_gb
    if size and not MIN_BOOT_DISK_GB <= size <= MAX_BOOT_DISK_GB:
        out.append(
            FieldViolation(
                f"{path}.boot_disk_size_gb", f"Must be within [{MIN_BOOT_DISK_GB}, {MAX_BOOT_DISK_GB}]."
            )
        )
    if spec.boot_disk_type and spec.boot_disk_type not in BOOT_DISK_TYPES:
        allowed = ", ".join(sorted(BOOT_DISK_TYPES))
        out.append(FieldViolation(f"{path}.boot_disk_type", f"Must be one of [{allowed}]."))


def _check_nfs_mount(mount: Any, path: str, out: list[FieldViolation]) -> None:
    for field in ("server", "path", "mount_point"):
        if not getattr(mount, field):
            out.append(FieldViolation(f"{path}.{field}", REQUIRED))
    if mount.path and not mount.path.startswith("/"):
        out.append(FieldViolation(f"{path}.path", "Must be an absolute path starting with '/'."))


def _check_scheduling(scheduling: Any, path: str, out: list[FieldViolation]) -> None:
    timeout_s = _seconds(scheduling.timeout) if scheduling.HasField("timeout") else None
    if timeout_s is not None and timeout_s <= 0:
        out.append(FieldViolation(f"{path}.timeout", "Must be positive."))
    elif (
        timeout_s is not None
        and scheduling.strategy == _STRATEGY_FLEX_START
        and timeout_s > FLEX_START_MAX_TIMEOUT_S
    ):
        out.append(FieldViolation(f"{path}.timeout", "Must be at most 7 days with the FLEX_START strategy."))
    if scheduling.HasField("max_wait_duration") and _seconds(scheduling.max_wait_duration) < 0:
        out.append(FieldViolation(f"{path}.max_wait_duration", "Must not be negative."))


def _seconds(duration: Any) -> float:
    return float(duration.seconds + duration.nanos / 1e9)


def _check_output_directory(destination: Any, path: str, out: list[FieldViolation]) -> None:
    prefix = destination.output_uri_prefix
    if not prefix:
        out.append(FieldViolation(f"{path}.output_uri_prefix", REQUIRED))
    elif not prefix.startswith(OUTPUT_URI_PREFIXES):
        out.append(
            FieldViolation(
                f"{path}.output_uri_prefix", "Must be a gs:// URI, a file:// URI or an absolute local path."
            )
        )


def _check_labels(labels: dict[str, str], out: list[FieldViolation], path: str = "labels") -> None:
    if len(labels) > MAX_LABELS:
        out.append(FieldViolation(path, f"At most {MAX_LABELS} labels are allowed."))
    for key, value in labels.items():
        problem = _label_key_problem(key) or _label_value_problem(value)
        if not problem and key == PRIORITY_LABEL and not is_priority(value):
            problem = "value must be an integer (the job's queue priority, higher first)."
        if problem:
            out.append(FieldViolation(path, f"Label '{key}': {problem}"))


def _label_key_problem(key: str) -> str | None:
    if key.startswith(RESERVED_LABEL_PREFIX):
        return f"keys starting with '{RESERVED_LABEL_PREFIX}' are reserved for system labels."
    if not key:
        return "key must not be empty."
    if len(key) > MAX_LABEL_CHARS:
        return f"key must be at most {MAX_LABEL_CHARS} characters long."
    if not _is_label_letter(key[0]):
        return "key must start with a lowercase letter or an international character."
    if not all(_is_label_char(c) for c in key):
        return "key may contain only lowercase letters, international characters, digits, '_' and '-'."
    return None


def _label_value_problem(value: str) -> str | None:
    if len(value) > MAX_LABEL_CHARS:
        return f"value must be at most {MAX_LABEL_CHARS} characters long."
    if not all(_is_label_char(c) for c in value):
        return "value may contain only lowercase letters, international characters, digits, '_' and '-'."
    return None


def _is_label_letter(c: str) -> bool:
    # Google's label rule is [\p{Ll}\p{Lo}]: lowercase or caseless letters, so a
    # non-ASCII uppercase letter such as 'É' is refused just like 'E'.
    return ("a" <= c <= "z") or (not c.isascii() and unicodedata.category(c) in ("Ll", "Lo"))


def _is_label_char(c: str) -> bool:
    return _is_label_letter(c) or ("0" <= c <= "9") or c in "_-"


def _check_encryption_spec(spec: Any, path: str, out: list[FieldViolation]) -> None:
    name = spec.kms_key_name
    if not name:
        out.append(FieldViolation(f"{path}.kms_key_name", REQUIRED))
    elif not _KMS_KEY_NAME.fullmatch(name):
        out.append(
            FieldViolation(
                f"{path}.kms_key_name",
                "Must have the form projects/*/locations/*/keyRings/*/cryptoKeys/*.",
            )
        )
