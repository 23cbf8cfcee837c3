"""A small tmpfs of a test's own, to fill until ENOSPC (mounting it needs root).

For tests of a full disk under the store: they skip, saying why, where nothing can be mounted.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

SIZE = "16m"


@contextlib.contextmanager
def mounted(mount_dir: Path) -> Iterator[Path]:
    mount_dir.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no `mount` command to make a small filesystem to fill")
    argv = ["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(mount_dir)]
    done = subprocess.run(argv, capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {done.stderr.decode().strip()}")
    try:
        yield mount_dir
    finally:
        # Lazy: a server the test started may still hold the database file open.
        subprocess.run(["umount", "-l", str(mount_dir)], capture_output=True, check=False)


def fill(path: Path) -> None:
    """Write to path until its filesystem has not one byte left."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        for chunk in (1 << 20, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * chunk)
        try:
            os.write(fd, b"\0")
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
        else:
            raise AssertionError(f"{path.parent} is not full")
    finally:
        os.close(fd)
