"""Cached virtual environments for pythonPackageSpec, one per distinct package set.

The key is a hash of the packages' contents and names (pip reads a wheel's tags from its
name) and of the Python that runs them, so a job that ships the same sdist again reuses
its environment, and a changed sdist gets a new one. Replicas of several jobs may start
together: an exclusive lock on `<key>.lock` (fcntl) makes one of them build while the
others wait, then reuse. An environment counts only once its marker file is written, so
a build that failed or was killed half-way is rebuilt by the next replica.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from customjobs.execution.backends.packages import venvs

READY_MARKER = ".customjobs-ready"
KEY_HEX_CHARS = 20
_HASH_CHUNK_BYTES = 1024 * 1024


class InstallFailed(Exception):
    def __init__(self, returncode: int) -> None:
        super().__init__(f"installing the packages failed (exit status {returncode})")
        self.returncode = returncode


def env_key(packages: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    digest.update(f"{sys.implementation.name} {sys.version} {sys.executable}\n".encode())
    for package in packages:
        content = hashlib.sha256()
        with open(package, "rb") as f:
            while chunk := f.read(_HASH_CHUNK_BYTES):
                content.update(chunk)
        digest.update(f"{package.name} {content.hexdigest()}\n".encode())
    return digest.hexdigest()[:KEY_HEX_CHARS]


def ensure_env(root: Path, packages: Sequence[Path], say: Callable[[str], None]) -> Path:
    """The python of the environment holding `packages`, built now unless already cached."""
    key = env_key(packages)
    root.mkdir(parents=True, exist_ok=True)
    env = root / key
    with open(root / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (env / READY_MARKER).exists():
            say(f"customjobs: reusing cached environment {key}")
            return venvs.python_of(env)
        started = time.monotonic()
        if env.exists():
            shutil.rmtree(env)  # what a failed or killed build left
        say(f"customjobs: creating environment {key} for {', '.join(p.name for p in packages)}")
        try:
            venvs.create(env)
            _install(env, packages)
        except BaseException:
            shutil.rmtree(env, ignore_errors=True)
            raise
        (env / READY_MARKER).write_text(" ".join(p.name for p in packages) + "\n")
        say(f"customjobs: created environment {key} in {time.monotonic() - started:.1f}s")
        return venvs.python_of(env)


def _install(env: Path, packages: Sequence[Path]) -> None:
    """uv when it is on PATH (much faster), else pip, both writing straight to the replica's log."""
    files = [str(p) for p in packages]
    uv = shutil.which("uv")
    if uv is not None:
        argv = [uv, "pip", "install", "--python", str(venvs.python_of(env)), *files]
    else:
        argv = [
            str(venvs.python_of(env)),
            "-m",
            "pip",
            "install",
            "--no-input",
            "--disable-pip-version-check",
        ]
        argv += files
    sys.stdout.flush()
    returncode = subprocess.call(argv, stdin=subprocess.DEVNULL)
    if returncode != 0:
        raise InstallFailed(returncode)
