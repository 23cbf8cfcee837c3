"""CustomJob bodies (proto JSON, as a REST client sends them) that break one validation rule each.

Shared by the unit tests of customjobs.resources.custom_jobs.validation and the end-to-end tests that
send the same bodies through the real Google client, so every body here must parse with
google.protobuf.json_format into aiplatform_v1.CustomJob.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

Body = dict[str, Any]

VALID_BODY: Body = {
    "displayName": "validation-base",
    "jobSpec": {
        "workerPoolSpecs": [
            {
                "machineSpec": {"machineType": "n1-standard-4"},
                "replicaCount": "1",
                "containerSpec": {"imageUri": "busybox", "command": ["true"]},
            }
        ]
    },
}

POOL0 = "job_spec.worker_pool_specs[0]"
POOL1 = "job_spec.worker_pool_specs[1]"


def _pool() -> Body:
    return copy.deepcopy(VALID_BODY["jobSpec"]["workerPoolSpecs"][0])


def _python_pool() -> Body:
    return {
        "machineSpec": {"machineType": "n1-standard-4"},
        "replicaCount": "1",
        "pythonPackageSpec": {
            "executorImageUri": "us-docker.pkg.dev/vertex-ai/training/tf-cpu.2-17.py310:latest",
            "packageUris": ["gs://bucket/trainer-0.1.tar.gz"],
            "pythonModule": "trainer.task",
        },
    }


def job(change: Callable[[Body], object] | None = None) -> Body:
    """A deep copy of VALID_BODY, mutated in place by `change`."""
    body = copy.deepcopy(VALID_BODY)
    if change is not None:
        change(body)
    return body


def pool(change: Callable[[Body], object]) -> Body:
    """VALID_BODY with `change` applied to its (only) worker pool."""
    return job(lambda b: change(b["jobSpec"]["workerPoolSpecs"][0]))


def python_pool(change: Callable[[Body], object]) -> Body:
    """VALID_BODY whose pool is a python package pool, mutated by `change`."""
    p = _python_pool()
    change(p["pythonPackageSpec"])
    return job(lambda b: b["jobSpec"].update(workerPoolSpecs=[p]))


def spec(**fields: Any) -> Body:
    """VALID_BODY with extra jobSpec fields."""
    return job(lambda b: b["jobSpec"].update(fields))


def labels(value: dict[str, str]) -> Body:
    return job(lambda b: b.update(labels=value))


def env(*pairs: tuple[str, str]) -> Body:
    return pool(lambda p: p["containerSpec"].update(env=[{"name": n, "value": v} for n, v in pairs]))


def case(id: str, body: Body, *paths: str) -> Any:
    return pytest.param(body, set(paths), id=id)


CASES = [
    # CustomJob
    case("display-name-missing", job(lambda b: b.pop("displayName")), "display_name"),
    case("display-name-too-long", job(lambda b: b.update(displayName="é" * 129)), "display_name"),
    case("job-spec-missing", job(lambda b: b.pop("jobSpec")), "job_spec"),
    # CustomJobSpec.worker_pool_specs
    case("pools-missing", spec(workerPoolSpecs=[]), "job_spec.worker_pool_specs"),
    case("pools-too-many", spec(workerPoolSpecs=[_pool()] + [{}] * 4), "job_spec.worker_pool_specs"),
    case("pool0-empty", spec(workerPoolSpecs=[{}, _pool()]), POOL0),
    # WorkerPoolSpec
    case("machine-spec-missing", pool(lambda p: p.pop("machineSpec")), f"{POOL0}.machine_spec.machine_type"),
    case(
        "machine-type-empty",
        pool(lambda p: p["machineSpec"].update(machineType="")),
        f"{POOL0}.machine_spec.machine_type",
    ),
    case(
        "machine-type-unknown",
        pool(lambda p: p["machineSpec"].update(machineType="n9-imaginary-4")),
        f"{POOL0}.machine_spec.machine_type",
    ),
    case("task-missing", pool(lambda p: p.pop("containerSpec")), POOL0),
    case("replica-count-missing", pool(lambda p: p.pop("replicaCount")), f"{POOL0}.replica_count"),
    case("replica-count-zero", pool(lambda p: p.update(replicaCount="0")), f"{POOL0}.replica_count"),
    case("replica-count-negative", pool(lambda p: p.update(replicaCount="-1")), f"{POOL0}.replica_count"),
    case("primary-replicas-not-one", pool(lambda p: p.update(replicaCount="2")), f"{POOL0}.replica_count"),
    case(
        "pool1-replica-count-zero",
        spec(workerPoolSpecs=[_pool(), {**_pool(), "replicaCount": "0"}]),
        f"{POOL1}.replica_count",
    ),
    # ContainerSpec / PythonPackageSpec
    case(
        "image-uri-missing",
        pool(lambda p: p["containerSpec"].pop("imageUri")),
        f"{POOL0}.container_spec.image_uri",
    ),
    case(
        "executor-image-missing",
        python_pool(lambda s: s.pop("executorImageUri")),
        f"{POOL0}.python_package_spec.executor_image_uri",
    ),
    case(
        "package-uris-missing",
        python_pool(lambda s: s.pop("packageUris")),
        f"{POOL0}.python_package_spec.package_uris",
    ),
    case(
        "package-uris-too-many",
        python_pool(lambda s: s.update(packageUris=[f"gs://b/p{i}.tar.gz" for i in range(101)])),
        f"{POOL0}.python_package_spec.package_uris",
    ),
    case(
        "package-uri-empty",
        python_pool(lambda s: s.update(packageUris=["gs://b/p.tar.gz", ""])),
        f"{POOL0}.python_package_spec.package_uris[1]",
    ),
    case(
        "python-module-missing",
        python_pool(lambda s: s.pop("pythonModule")),
        f"{POOL0}.python_package_spec.python_module",
    ),
    # EnvVar
    case(
        "env-too-many",
        env(*[(f"V{i}", "x") for i in range(101)]),
        f"{POOL0}.container_spec.env",
    ),
    case("env-name-invalid", env(("OK", "1"), ("1BAD", "2")), f"{POOL0}.container_spec.env[1].name"),
    case("env-name-dash", env(("MY-VAR", "1")), f"{POOL0}.container_spec.env[0].name"),
    case("env-name-missing", env(("", "1")), f"{POOL0}.container_spec.env[0].name"),
    case("env-value-empty", env(("A", "")), f"{POOL0}.container_spec.env[0].value"),
    case("env-name-duplicate", env(("A", "1"), ("A", "2")), f"{POOL0}.container_spec.env[1].name"),
    case(
        "python-env-value-empty",
        python_pool(lambda s: s.update(env=[{"name": "A", "value": ""}])),
        f"{POOL0}.python_package_spec.env[0].value",
    ),
    # MachineSpec
    case(
        "accelerator-type-without-count",
        pool(lambda p: p["machineSpec"].update(acceleratorType="NVIDIA_TESLA_T4")),
        f"{POOL0}.machine_spec.accelerator_type",
    ),
    case(
        "accelerator-count-without-type",
        pool(lambda p: p["machineSpec"].update(acceleratorCount=1)),
        f"{POOL0}.machine_spec.accelerator_type",
    ),
    case(
        "accelerator-count-negative",
        pool(lambda p: p["machineSpec"].update(acceleratorType="NVIDIA_TESLA_T4", acceleratorCount=-1)),
        f"{POOL0}.machine_spec.accelerator_count",
    ),
    case(
        "accelerator-not-carried-by-machine-type",
        pool(
            lambda p: p["machineSpec"].update(
                machineType="e2-standard-4", acceleratorType="NVIDIA_TESLA_T4", acceleratorCount=1
            )
        ),
        f"{POOL0}.machine_spec.accelerator_type",
    ),
    case(
        "accelerator-count-not-carried-by-machine-type",
        pool(lambda p: p["machineSpec"].update(acceleratorType="NVIDIA_TESLA_T4", acceleratorCount=3)),
        f"{POOL0}.machine_spec.accelerator_count",
    ),
    case(
        "reservation-type-missing",
        pool(lambda p: p["machineSpec"].update(reservationAffinity={"key": "k"})),
        f"{POOL0}.machine_spec.reservation_affinity.reservation_affinity_type",
    ),
    case(
        "specific-reservation-without-key-and-values",
        pool(
            lambda p: p["machineSpec"].update(
                reservationAffinity={"reservationAffinityType": "SPECIFIC_RESERVATION"}
            )
        ),
        f"{POOL0}.machine_spec.reservation_affinity.key",
        f"{POOL0}.machine_spec.reservation_affinity.values",
    ),
    # DiskSpec
    case(
        "boot-disk-too-small",
        pool(lambda p: p.update(diskSpec={"bootDiskSizeGb": 50})),
        f"{POOL0}.disk_spec.boot_disk_size_gb",
    ),
    case(
        "boot-disk-too-large",
        pool(lambda p: p.update(diskSpec={"bootDiskSizeGb": 64001})),
        f"{POOL0}.disk_spec.boot_disk_size_gb",
    ),
    case(
        "boot-disk-type-unknown",
        pool(lambda p: p.update(diskSpec={"bootDiskType": "pd-balanced"})),
        f"{POOL0}.disk_spec.boot_disk_type",
    ),
    # NfsMount
    case(
        "nfs-fields-missing",
        pool(lambda p: p.update(nfsMounts=[{"server": "10.0.0.2", "path": "/share", "mountPoint": "d"}, {}])),
        f"{POOL0}.nfs_mounts[1].server",
        f"{POOL0}.nfs_mounts[1].path",
        f"{POOL0}.nfs_mounts[1].mount_point",
    ),
    case(
        "nfs-path-relative",
        pool(lambda p: p.update(nfsMounts=[{"server": "10.0.0.2", "path": "share", "mountPoint": "d"}])),
        f"{POOL0}.nfs_mounts[0].path",
    ),
    # Scheduling
    case("timeout-zero", spec(scheduling={"timeout": "0s"}), "job_spec.scheduling.timeout"),
    case("timeout-negative", spec(scheduling={"timeout": "-5s"}), "job_spec.scheduling.timeout"),
    case(
        "max-wait-negative",
        spec(scheduling={"maxWaitDuration": "-1s"}),
        "job_spec.scheduling.max_wait_duration",
    ),
    case(
        "flex-start-timeout-over-7-days",
        spec(scheduling={"strategy": "FLEX_START", "timeout": "604801s"}),
        "job_spec.scheduling.timeout",
    ),
    # CustomJobSpec scalars and small messages
    case(
        "service-account-not-email",
        spec(serviceAccount="not-an-email"),
        "job_spec.service_account",
    ),
    case(
        "output-uri-missing",
        spec(baseOutputDirectory={}),
        "job_spec.base_output_directory.output_uri_prefix",
    ),
    case(
        "output-uri-bad-scheme",
        spec(baseOutputDirectory={"outputUriPrefix": "s3://bucket/dir"}),
        "job_spec.base_output_directory.output_uri_prefix",
    ),
    # Labels
    case("labels-too-many", labels({f"k{i}": "v" for i in range(65)}), "labels"),
    case("label-key-uppercase", labels({"Team": "ml"}), "labels"),
    case("label-key-starts-with-digit", labels({"1team": "ml"}), "labels"),
    case("label-key-too-long", labels({"k" * 64: "v"}), "labels"),
    case("label-key-empty", labels({"": "v"}), "labels"),
    case("label-key-non-ascii-uppercase", labels({"équipe": "ml", "Équipe": "ml"}), "labels"),
    case("label-value-bad-char", labels({"team": "ML.team"}), "labels"),
    case("label-value-too-long", labels({"team": "v" * 64}), "labels"),
    case("label-key-reserved", labels({"aiplatform.googleapis.com/owner": "x"}), "labels"),
    case("priority-label-not-an-integer", labels({"customjobs-priority": "high"}), "labels"),
    # EncryptionSpec
    case("kms-key-missing", job(lambda b: b.update(encryptionSpec={})), "encryption_spec.kms_key_name"),
    case(
        "kms-key-malformed",
        job(lambda b: b.update(encryptionSpec={"kmsKeyName": "projects/p/keyRings/r/cryptoKeys/k"})),
        "encryption_spec.kms_key_name",
    ),
    # Several violations at once: all must come back together.
    case(
        "combined-display-name-and-accelerator",
        job(
            lambda b: (
                b.pop("displayName"),
                b["jobSpec"]["workerPoolSpecs"][0]["machineSpec"].update(acceleratorCount=2),
            )
        ),
        "display_name",
        f"{POOL0}.machine_spec.accelerator_type",
    ),
    case(
        "combined-two-pools-and-labels",
        job(
            lambda b: (
                b["jobSpec"].update(
                    workerPoolSpecs=[
                        {**_pool(), "replicaCount": "3"},
                        {"machineSpec": {"machineType": "n1-standard-4"}, "replicaCount": "2"},
                    ]
                ),
                b.update(labels={"Bad": "x"}),
            )
        ),
        f"{POOL0}.replica_count",
        POOL1,
        "labels",
    ),
    case(
        "combined-everything-in-one-pool",
        pool(
            lambda p: (
                p.pop("machineSpec"),
                p.update(replicaCount="0", diskSpec={"bootDiskType": "hdd"}),
                p["containerSpec"].update(imageUri="", env=[{"name": "A-B", "value": ""}]),
            )
        ),
        f"{POOL0}.machine_spec.machine_type",
        f"{POOL0}.replica_count",
        f"{POOL0}.container_spec.image_uri",
        f"{POOL0}.container_spec.env[0].name",
        f"{POOL0}.container_spec.env[0].value",
        f"{POOL0}.disk_spec.boot_disk_type",
    ),
]

VALID_VARIANTS = [
    pytest.param(VALID_BODY, id="base"),
    pytest.param(
        spec(workerPoolSpecs=[_pool(), {}, {}, {**_pool(), "replicaCount": "4"}]),
        id="empty-pools-1-and-2",
    ),
    pytest.param(python_pool(lambda s: s.update(args=["--epochs=1"])), id="python-package-pool"),
    pytest.param(
        labels({"team_1": "ml-research", "env": "", "équipe": "données", "部署": "研究", "a-b_c9": "0"}),
        id="labels-charset",
    ),
    pytest.param(
        pool(lambda p: p["machineSpec"].update(acceleratorType="NVIDIA_TESLA_T4", acceleratorCount=2)),
        id="accelerators-together",
    ),
    pytest.param(
        pool(
            lambda p: p["machineSpec"].update(
                machineType="a2-highgpu-1g", acceleratorType="NVIDIA_TESLA_A100", acceleratorCount=1
            )
        ),
        id="gpu-machine-type-with-its-gpu",
    ),
    pytest.param(labels({"customjobs-priority": "-3"}), id="priority-label"),
    pytest.param(
        spec(scheduling={"timeout": "3600s", "strategy": "FLEX_START", "maxWaitDuration": "0s"}),
        id="scheduling-timeout",
    ),
    pytest.param(
        job(
            lambda b: (
                b["jobSpec"].update(
                    serviceAccount="sa@proj.iam.gserviceaccount.com",
                    baseOutputDirectory={"outputUriPrefix": "gs://bucket/dir/"},
                ),
                b.update(encryptionSpec={"kmsKeyName": "projects/p/locations/l/keyRings/r/cryptoKeys/k"}),
                b["jobSpec"]["workerPoolSpecs"][0].update(
                    diskSpec={"bootDiskType": "pd-standard", "bootDiskSizeGb": 200},
                    nfsMounts=[{"server": "10.0.0.2", "path": "/share", "mountPoint": "data"}],
                ),
                b["jobSpec"]["workerPoolSpecs"][0]["containerSpec"].update(
                    env=[{"name": "_A1", "value": "x"}, {"name": "b", "value": "$(A1)"}]
                ),
            )
        ),
        id="optional-fields-set",
    ),
    pytest.param(spec(baseOutputDirectory={"outputUriPrefix": "/tmp/out"}), id="local-output-dir"),
    pytest.param(
        job(
            lambda b: (
                b.update(displayName="é" * 128, labels={"k" * 63: "v" * 63}),
                b["jobSpec"].update(scheduling={"strategy": "FLEX_START", "timeout": "604800s"}),
                b["jobSpec"]["workerPoolSpecs"][0].update(diskSpec={"bootDiskSizeGb": 64000}),
            )
        ),
        id="limits-inclusive",
    ),
    pytest.param(
        pool(
            lambda p: p["machineSpec"].update(
                reservationAffinity={
                    "reservationAffinityType": "SPECIFIC_RESERVATION",
                    "key": "compute.googleapis.com/reservation-name",
                    "values": ["projects/p/zones/z/reservations/r"],
                }
            )
        ),
        id="specific-reservation",
    ),
]
