"""Settings: the only module that reads environment variables.

Everything else receives a Settings object, so tests and the CLI configure the server
the same way and nothing deep in the code changes behaviour behind their back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def default_data_dir() -> Path:
    env = os.environ.get("CUSTOMJOBS_DATA_DIR")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("customjobs", appauthor=False))


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    database_url: str | None = None
    # How long a replica has between SIGTERM and SIGKILL when it is stopped.
    stop_grace_s: float = 5.0
    # How often the scheduler looks at running jobs when nothing wakes it sooner.
    active_tick_s: float = 0.25
    idle_tick_s: float = 5.0
    # How many trailing log lines of a failed replica go into the job's error message.
    error_log_lines: int = 10
    default_page_size: int = 100
    max_page_size: int = 1000
    # Where the process backend's replicas write their logs, pid and exit files.
    jobs_dir_name: str = "jobs"
    # Which execution backend runs replicas (backends/registry.py).
    runtime: str = "process"

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'customjobs.db'}"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / self.jobs_dir_name


def env_database_url() -> str | None:
    return os.environ.get("CUSTOMJOBS_DATABASE_URL")
