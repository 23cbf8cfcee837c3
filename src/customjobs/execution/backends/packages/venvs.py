"""Virtual environments that see what the host Python has, made in milliseconds.

Two kinds use it: the per-job environment first on a process replica's PATH (so `pip
install` in a job's command never touches the host Python), and the cached environment
of a pythonPackageSpec package set. Both are created with system site packages, and a
`.pth` file adds the site directories of the Python that made them: when the server
itself runs in a virtual environment (as `make serve` does), "system" would otherwise
mean the base interpreter, and torch installed beside the server would not be importable.
`site.addsitedir` (not a bare path) is used so editable installs in those directories work.

No pip is copied in (ensurepip takes seconds): `pip` is a two-line script running the
host's pip module inside the environment, which installs into the environment, and
leaves the host's own files alone ("Not uninstalling pip ... outside environment").
"""

from __future__ import annotations

import functools
import importlib.util
import os
import site
import sys
import sysconfig
import venv
from pathlib import Path

HOST_PTH = "_customjobs_host.pth"
_PIP_SHIM = '#!/bin/sh\nexec "$(dirname "$0")/python" -m pip "$@"\n'


class _Builder(venv.EnvBuilder):
    def setup_scripts(self, context: object) -> None:
        """No activate scripts: nothing sources them, and they are most of a venv's files."""

    def _venv_path(self, env_dir: str, name: str) -> str:
        """The stdlib's own answer (sysconfig's venv scheme), expanded once per name: expanding
        it was half of every build (a spare is built for every job launched)."""
        return os.path.join(env_dir, _venv_relative(name))


_PLACEHOLDER_BASE = "/customjobs-venv-base"


@functools.cache
def _venv_relative(name: str) -> str:
    """Where sysconfig's venv scheme puts `name` ('scripts', 'purelib'...), relative to the env."""
    path = venv.EnvBuilder._venv_path(venv.EnvBuilder(), _PLACEHOLDER_BASE, name)  # type: ignore[attr-defined]
    return os.path.relpath(path, _PLACEHOLDER_BASE)


@functools.cache
def host_site_dirs() -> tuple[str, ...]:
    """This Python's site directories (asked once: sysconfig is slow, and they do not change)."""
    paths = sysconfig.get_paths()
    dirs = [*site.getsitepackages(), paths["purelib"], paths["platlib"]]
    return tuple(dict.fromkeys(d for d in dirs if os.path.isdir(d)))


@functools.cache
def host_has_pip() -> bool:
    return importlib.util.find_spec("pip") is not None


def bin_dir(env: Path) -> Path:
    return env / "bin"


def python_of(env: Path) -> Path:
    return bin_dir(env) / "python"


def site_packages(env: Path) -> Path:
    return env / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"


def create(env: Path) -> None:
    """A new environment at `env` on this Python, seeing this Python's packages.

    When this Python has no pip module to lend, the environment gets its own (slower).
    """
    lend_pip = host_has_pip()
    _Builder(system_site_packages=True, symlinks=True, with_pip=not lend_pip).create(env)
    lines = [f"import site; site.addsitedir({d!r})\n" for d in host_site_dirs()]
    (site_packages(env) / HOST_PTH).write_text("".join(lines))
    if lend_pip:
        minor = f"pip{sys.version_info[0]}.{sys.version_info[1]}"
        for name in ("pip", f"pip{sys.version_info[0]}", minor):
            script = bin_dir(env) / name
            script.write_text(_PIP_SHIM)
            script.chmod(0o755)
