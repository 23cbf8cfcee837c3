"""A PostgreSQL cluster of a test's own (initdb, its own port), which the test may kill -9.

tests/support/postgres.py lends databases on the shared server, which no test may crash.
This one is the test's alone: initdb into a fresh folder, `postgres` on a free port, SIGKILL
to its whole process group (postmaster and backends at once, as when its host or container
dies), and a restart on the same data folder, which replays the WAL as after any crash.

PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user (or
`nobody`), in a folder under the system temp dir that user can reach.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from support.server import free_port

START_TIMEOUT_S = 30.0
SUPERUSER = "postgres"


def _run_as() -> pwd.struct_passwd | None:
    """The unprivileged user to run PostgreSQL as, or None when the test is not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and there is no `postgres` or `nobody` user to run PostgreSQL as")


def _binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None)
    if found is None:
        raise RuntimeError(f"PostgreSQL's `{name}` is required (apt-get install postgresql)")
    return str(found)


class OwnPostgres:
    """initdb once; start(), kill9() and start() again on the same data folder; close() removes it."""

    def __init__(self) -> None:
        self.user = _run_as()
        # Not pytest's tmp_path: its parents are root's alone, and the cluster runs as another user.
        self.base = Path(tempfile.mkdtemp(prefix="customjobs-pg-"))
        self.data_dir = self.base / "data"
        self.log_path = self.base / "postgres.log"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        if self.user is not None:
            os.chown(self.base, self.user.pw_uid, self.user.pw_gid)
        self._as_user(
            [_binary("initdb"), "-D", str(self.data_dir), "-U", SUPERUSER, "-A", "trust", "--no-sync"]
        )

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        argv = [_binary("postgres"), "-D", str(self.data_dir), "-p", str(self.port)]
        argv += ["-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.base}"]
        with open(self.log_path, "ab") as log:
            # Its own session: kill9() reaches the postmaster and every backend it forked.
            self.proc = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.base,
                **self._user_kw(),
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"postgres exited with {self.proc.returncode}:\n{self.log_path.read_text()}"
                )
            try:
                psycopg.connect(self.url, connect_timeout=2).close()
                return
            except psycopg.OperationalError:  # not listening yet, or still replaying its WAL
                time.sleep(0.1)
        raise RuntimeError(f"postgres did not accept connections within {START_TIMEOUT_S}s")

    def kill9(self) -> None:
        """The database crashes: SIGKILL to the postmaster and its backends together."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill9()
        shutil.rmtree(self.base, ignore_errors=True)

    def _user_kw(self) -> dict[str, Any]:
        if self.user is None:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def _as_user(self, argv: list[str]) -> None:
        done = subprocess.run(argv, capture_output=True, cwd=self.base, check=False, **self._user_kw())
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {done.stdout.decode()}{done.stderr.decode()}")
