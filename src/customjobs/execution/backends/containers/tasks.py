"""What a container replica runs and sees beyond containerSpec: Python packages and buckets.

Vertex mounts every bucket at /gcs/<bucket>; here the local bucket folder is bind-mounted
there, and STORAGE_EMULATOR_HOST points Cloud Storage clients at this server. A
pythonPackageSpec pool runs in its executorImageUri: the container installs the packages
with that image's own pip (`--user`, so the image is left alone) and then runs the module,
as Vertex's prebuilt executors do.
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path
from urllib.parse import urlparse

from customjobs.domain.spec import PythonPackage
from customjobs.execution.backends.base import LaunchError

GCS_MOUNT = "/gcs"
PACKAGES_MOUNT = "/customjobs/packages"


def bucket_mount(buckets_dir: Path) -> tuple[str, str]:
    buckets_dir.mkdir(parents=True, exist_ok=True)
    return (str(buckets_dir), GCS_MOUNT)


def package_uri_inside(uri: str, staged: Path) -> str:
    """Where the container finds a package: /gcs for gs://, a staged copy for local files, else the URL."""
    parsed = urlparse(uri)
    if parsed.scheme == "gs":
        return f"{GCS_MOUNT}/{parsed.netloc}{parsed.path}"
    if parsed.scheme in ("http", "https"):
        return uri
    source = Path(parsed.path if parsed.scheme == "file" else uri)
    if not source.is_file():
        raise LaunchError(f"The Python package {uri} was not found on the server's machine.")
    staged.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, staged / source.name)
    return f"{PACKAGES_MOUNT}/{source.name}"


def python_package_command(package: PythonPackage, staged: Path) -> tuple[str, ...]:
    """sh -c 'pip install --user PKGS && exec python3 -m MODULE "$@"' — args pass as argv, unquoted by us."""
    packages = " ".join(shlex.quote(package_uri_inside(uri, staged)) for uri in package.package_uris)
    script = (
        'echo "customjobs: installing the job\'s Python packages in the executor image"; '
        # The container is thrown away after the job: a PEP 668 image may take --user installs.
        "PIP_BREAK_SYSTEM_PACKAGES=1 "
        f"python3 -m pip install --user --no-warn-script-location --disable-pip-version-check {packages} "
        f'&& exec python3 -m {shlex.quote(package.python_module)} "$@"'
    )
    return ("/bin/sh", "-c", script, "python-package")
