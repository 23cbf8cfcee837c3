"""Logs come home from the Ray nodes: tests/e2e/test_logs.py (follow over HTTP, every replica
after the end), and the CLI's `jobs logs --follow` of tests/e2e/test_cli.py, unchanged, on the
Ray backend."""

from e2e.test_cli import cli, test_logs_follow_prints_every_line_of_a_running_job_once  # noqa: F401
from e2e.test_logs import *  # noqa: F403
