"""Logs come home from the Ray nodes: tests/e2e/test_logs.py (follow over HTTP, every replica
after the end), the CLI's `jobs logs --follow` (tests/e2e/test_cli.py) and gcloud's
`stream-logs` through the Cloud Logging view (tests/e2e/test_gcloud.py), unchanged, on the
Ray backend."""

from e2e.test_cli import cli, test_logs_follow_prints_every_line_of_a_running_job_once  # noqa: F401
from e2e.test_gcloud import gcloud, test_create_with_flags_then_describe_list_and_stream_logs  # noqa: F401
from e2e.test_logs import *  # noqa: F403
