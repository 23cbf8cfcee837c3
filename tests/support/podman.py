"""Podman for the container tests: installed by scripts/setup-podman.sh, images built locally.

No registry is reachable from the machines the tests run on, so the test image is a
busybox root filesystem (one static binary plus its applet links) imported with
`podman import`. The global flags are what podman needs on these machines
(../shared/notes/containers.md): runc, as crun fails on their hybrid cgroups, and cgroupfs.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SETUP_SCRIPT = REPO / "scripts" / "setup-podman.sh"
GLOBAL_FLAGS = ("--runtime", "runc", "--cgroup-manager=cgroupfs")
IMAGE = "localhost/customjobs-test:busybox"
# The same root filesystem with an ENTRYPOINT and a CMD, to check what command and args replace.
ENTRYPOINT_IMAGE = "localhost/customjobs-test:entrypoint"
BUSYBOX = Path("/bin/busybox")
SETUP_TIMEOUT_S = 480
PODMAN_TIMEOUT_S = 120


class PodmanUnavailable(Exception):
    pass


def setup(conf_path: Path) -> str:
    """Install what is missing; returns the CONTAINERS_CONF value podman must be run with."""
    try:
        result = subprocess.run(
            [str(SETUP_SCRIPT), str(conf_path)], capture_output=True, text=True, timeout=SETUP_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PodmanUnavailable(f"{SETUP_SCRIPT} could not run: {exc}") from exc
    if result.returncode != 0:
        raise PodmanUnavailable(
            f"{SETUP_SCRIPT} failed with {result.returncode}:\n{result.stdout}\n{result.stderr[-4000:]}"
        )
    return result.stdout.strip().splitlines()[-1].removeprefix("export CONTAINERS_CONF=")


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["podman", *GLOBAL_FLAGS, *args], capture_output=True, text=True, timeout=PODMAN_TIMEOUT_S
    )
    if check and result.returncode != 0:
        raise PodmanUnavailable(f"podman {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result


def busybox_rootfs(path: Path) -> None:
    """A tar of /bin/busybox and a link per applet: sh, echo, env, sleep, cat, nc, sed..."""
    if not BUSYBOX.is_file():
        raise PodmanUnavailable(f"{BUSYBOX} is missing: install busybox-static")
    applets = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True)
    with tarfile.open(path, "w") as tar:
        for name, mode in (("bin", 0o755), ("tmp", 0o1777), ("etc", 0o755), ("root", 0o700)):
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, int(time.time())
            tar.addfile(info)
        tar.add(BUSYBOX, arcname="bin/busybox")
        for applet in applets.stdout.split():
            if applet != "busybox":
                link = tarfile.TarInfo(f"bin/{applet}")
                link.type, link.linkname = tarfile.SYMTYPE, "busybox"
                tar.addfile(link)
        passwd = b"root:x:0:0:root:/root:/bin/sh\n"
        info = tarfile.TarInfo("etc/passwd")
        info.size = len(passwd)
        tar.addfile(info, io.BytesIO(passwd))


def build_images(workdir: Path) -> None:
    rootfs = workdir / "busybox-rootfs.tar"
    busybox_rootfs(rootfs)
    podman("import", str(rootfs), IMAGE)
    podman(
        "import",
        "--change",
        'ENTRYPOINT ["/bin/echo", "from-entrypoint"]',
        "--change",
        'CMD ["from-cmd"]',
        str(rootfs),
        ENTRYPOINT_IMAGE,
    )
    # Importing needs no runtime; running does: say so here, not in eight failed jobs.
    podman("run", "--rm", "--network=host", IMAGE, "true")


def containers_of(job_id: str) -> list[str]:
    """Every container of a job, running or not."""
    result = podman("ps", "-a", "--filter", f"label=customjobs.job={job_id}", "--format", "{{.Names}}")
    return result.stdout.split()


def remove_containers_of(job_id: str) -> None:
    names = containers_of(job_id)
    if names:
        podman("rm", "-f", *names, check=False)
