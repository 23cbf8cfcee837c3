"""The command line of a pythonPackageSpec replica on the host: the pyrunner bootstrap.

Fetching the packages and installing them can take minutes and can fail; doing it in the
replica process (pyrunner.py) rather than in the scheduler keeps the scheduler free, and
puts pip's output and errors in the replica's log, where a failed job's error quotes them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from customjobs.domain.spec import PythonPackage

RUNNER_MODULE = "customjobs.execution.backends.packages.pyrunner"
_REMOTE_SCHEMES = ("gs://", "http://", "https://", "file://")


def python_package_argv(
    package: PythonPackage, args: tuple[str, ...], envs_dir: Path, buckets_dir: Path
) -> tuple[str, ...]:
    """`python -m customjobs.execution.backends.packages.pyrunner --package URI ... --module M -- ARGS`.

    The executor image is passed only so the replica's log can say it was ignored.
    """
    argv = [
        sys.executable,
        "-m",
        RUNNER_MODULE,
        "--envs-dir",
        str(envs_dir),
        "--buckets-dir",
        str(buckets_dir),
    ]
    if package.executor_image_uri:
        argv += ["--executor-image", package.executor_image_uri]
    for uri in package.package_uris:
        # A relative path means the server's working folder, not the replica's.
        local = not uri.startswith(_REMOTE_SCHEMES)
        argv += ["--package", os.path.abspath(uri) if local else uri]
    return (*argv, "--module", package.python_module, "--", *args)
