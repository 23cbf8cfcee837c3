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
import shutil
import site
import stat
import sys
import sysconfig
import tempfile
import uuid
import venv
from dataclasses import dataclass
from pathlib import Path

HOST_PTH = "_customjobs_host.pth"
_PIP_SHIM = '#!/bin/sh\nexec "$(dirname "$0")/python" -m pip "$@"\n'


class _Builder(venv.EnvBuilder):
    def setup_scripts(self, context: object) -> None:
        """No activate scripts: nothing sources them, and they are most of a venv's files."""

    def _venv_path(self, env_dir: str, name: str) -> str:
        """The stdlib's own answer (sysconfig's venv scheme), expanded once per name: expanding
        it was half of every build (the template's, see create)."""
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

    It is a copy of one built once per process by the stdlib's venv (its entries kept in
    memory): 0.3 ms against the 0.8-1.1 ms of a build, on the launch path of every process
    job. The copy is made beside `env` and renamed into place, so `env` is whole or absent.
    When this Python has no pip module to lend, the environment gets its own (slower), and
    is built, not copied: pip's scripts name the environment they were installed in.
    """
    if not host_has_pip():
        _build(env)
        return
    root, entries = _template()
    env.parent.mkdir(parents=True, exist_ok=True)
    building = env.with_name(f"{env.name}.building-{uuid.uuid4().hex}")
    try:
        _copy(entries, root, building, env)
        try:
            os.rename(building, env)
        except OSError:  # what a build killed half-way left at `env` (not an empty folder)
            shutil.rmtree(env, ignore_errors=True)
            os.rename(building, env)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


def _build(env: Path) -> None:
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


@dataclass(frozen=True)
class _Entry:
    """One folder, symlink or file of the template, by its path inside the environment."""

    path: str
    mode: int  # a folder's or a file's permission bits
    link: str | None = None  # a symlink's target
    content: bytes | None = None  # a file's bytes


@functools.cache
def _template() -> tuple[bytes, tuple[_Entry, ...]]:
    """The entries of an environment built once in a scratch folder (then removed), parents
    first, and that folder's path: files that name it (pyvenv.cfg's `command`) get the
    copy's path instead."""
    with tempfile.TemporaryDirectory(prefix="customjobs-venv-") as scratch:
        root = os.path.join(scratch, "env")
        _build(Path(root))
        entries = []
        for folder, dirs, files in os.walk(root):
            for name in sorted(dirs) + sorted(files):
                path = os.path.join(folder, name)
                relative = os.path.relpath(path, root)
                info = os.lstat(path)
                mode = stat.S_IMODE(info.st_mode)
                if stat.S_ISLNK(info.st_mode):
                    entries.append(_Entry(relative, mode, link=os.readlink(path)))
                elif stat.S_ISDIR(info.st_mode):
                    entries.append(_Entry(relative, mode))
                else:
                    with open(path, "rb") as f:
                        entries.append(_Entry(relative, mode, content=f.read()))
        # os.walk lists a folder before what is in it, and never follows symlinks (lib64).
        return os.fsencode(root), tuple(entries)


def _copy(entries: tuple[_Entry, ...], template_root: bytes, dest: Path, named: Path) -> None:
    """The template's entries made under `dest`; files naming the template name `named`."""
    os.mkdir(dest)
    dest_root = os.fsencode(named)
    for entry in entries:
        path = os.path.join(dest, entry.path)
        if entry.link is not None:
            os.symlink(entry.link, path)
        elif entry.content is None:
            os.mkdir(path, entry.mode)
        else:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, entry.mode)
            try:
                os.write(fd, entry.content.replace(template_root, dest_root))
            finally:
                os.close(fd)
