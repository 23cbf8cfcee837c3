"""Helpers for pythonPackageSpec tests: build an sdist, upload it to a local bucket, read a log.

No `build` package is installed, so the sdist is made the way from_local_script makes its
own: a setup.py and `python setup.py sdist --formats=gztar`.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import requests
from google.auth.credentials import AnonymousCredentials
from google.cloud import aiplatform_v1 as av1
from google.cloud import storage

SDIST_TIMEOUT_S = 120


def build_sdist(
    workdir: Path, name: str, modules: dict[str, str], install_requires: tuple[str, ...] = ()
) -> Path:
    """`name-0.1.tar.gz` holding package `name` with the given modules (file name -> source)."""
    root = workdir / f"{name}-src"
    package = root / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for filename, source in modules.items():
        (package / filename).write_text(textwrap.dedent(source))
    requires = list(install_requires)
    (root / "setup.py").write_text(
        "from setuptools import setup\n"
        f"setup(name={name!r}, version='0.1', packages=[{name!r}], install_requires={requires!r})\n"
    )
    subprocess.run(
        [sys.executable, "setup.py", "-q", "sdist", "--formats=gztar"],
        cwd=root,
        check=True,
        capture_output=True,
        timeout=SDIST_TIMEOUT_S,
    )
    return root / "dist" / f"{name}-0.1.tar.gz"


def upload(server_url: str, path: Path, uri: str) -> None:
    """Upload through the Cloud Storage API, as a user's tooling would."""
    bucket, _, name = uri.removeprefix("gs://").partition("/")
    client = storage.Client(
        project="test-project",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": server_url},
    )
    client.bucket(bucket).blob(name).upload_from_filename(str(path))


def package_pool(uris: list[str], module: str, args: list[str] | None = None) -> av1.WorkerPoolSpec:
    return av1.WorkerPoolSpec(
        machine_spec=av1.MachineSpec(machine_type="n1-standard-4"),
        replica_count=1,
        python_package_spec=av1.PythonPackageSpec(
            executor_image_uri="us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest",
            package_uris=uris,
            python_module=module,
            args=args or [],
        ),
    )


def job_log(server_url: str, job_name: str, replica: str = "workerpool0-0") -> str:
    got = requests.get(f"{server_url}/customjobs/v1/{job_name}/logs", params={"replica": replica}, timeout=30)
    got.raise_for_status()
    return got.text
