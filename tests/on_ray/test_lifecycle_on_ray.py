"""tests/e2e/test_lifecycle.py, unchanged, on the Ray backend: run, fail, cancel, time out,
delete through the official Vertex client (this folder's `server` runs `--backend ray`)."""

from e2e.test_lifecycle import *  # noqa: F403
