"""The bootstrap of a pythonPackageSpec replica: fetch, install (or reuse), then become the module.

    python -m customjobs.execution.backends.packages.pyrunner --envs-dir D --buckets-dir B \\
        --package URI [--package URI ...] --module M -- ARGS...

It runs as the replica's own process, under the replica's wrapper, so everything it and
pip print goes to the replica's log, and its exit status is the replica's: a package that
fails to install fails the job with pip's error among the log lines the job's error
quotes. Once the environment is ready it `execv`s that environment's Python with
`-m M ARGS`, so the user's module keeps the replica's pid, signals and exit status.
Only the standard library and small customjobs modules are imported: this runs for every
replica of every such job.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from customjobs.execution.backends.packages import envcache
from customjobs.execution.backends.packages.fetch import FetchError, fetch

PACKAGES_DIR = "packages"
# What a replica exits with when a package cannot even be fetched (pip's own code otherwise).
FETCH_FAILED_EXIT = 1


def say(line: str) -> None:
    print(line, flush=True)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="customjobs-pyrunner")
    parser.add_argument("--envs-dir", type=Path, required=True)
    parser.add_argument("--buckets-dir", type=Path, required=True)
    parser.add_argument("--executor-image", default="")
    parser.add_argument("--package", action="append", required=True)
    parser.add_argument("--module", required=True)
    argv = list(argv)
    # Everything after the first `--` is the module's, verbatim (even `--help`).
    cut = argv.index("--") if "--" in argv else len(argv)
    ns = parser.parse_args(argv[:cut])
    ns.args = argv[cut + 1 :]
    return ns


def main(argv: Sequence[str] | None = None) -> NoReturn:
    ns = parse(sys.argv[1:] if argv is None else argv)
    if ns.executor_image:
        say(
            f"customjobs: the process runtime ignores executorImageUri {ns.executor_image}; "
            f"running on this host's Python {platform.python_version()} ({sys.executable})"
        )
    try:
        dest = Path.cwd() / PACKAGES_DIR
        files = [fetch(uri, dest / str(i), ns.buckets_dir) for i, uri in enumerate(ns.package)]
    except FetchError as exc:
        say(f"customjobs: cannot fetch package {exc}")
        sys.exit(FETCH_FAILED_EXIT)
    try:
        python = envcache.ensure_env(ns.envs_dir, files, say)
    except envcache.InstallFailed as exc:
        say(f"customjobs: {exc}; pip's output is above")
        sys.exit(exc.returncode)
    say(f"customjobs: running python -m {ns.module} {' '.join(ns.args)}".rstrip())
    os.execv(python, [str(python), "-m", ns.module, *ns.args])


if __name__ == "__main__":
    main()
