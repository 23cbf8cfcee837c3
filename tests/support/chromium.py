"""Debian's Chromium for the browser tests, installed by scripts/setup-chromium.sh.

Playwright's own browser download cannot reach its hosts from the machines the tests
run on, so the tests launch the system browser instead.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SETUP_SCRIPT = REPO / "scripts" / "setup-chromium.sh"
# Installing Chromium and its libraries on a clean machine takes minutes.
SETUP_TIMEOUT_S = 900


class ChromiumUnavailable(Exception):
    pass


def setup() -> str:
    """Install what is missing; returns the browser's path."""
    try:
        done = subprocess.run([str(SETUP_SCRIPT)], capture_output=True, text=True, timeout=SETUP_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ChromiumUnavailable(f"{SETUP_SCRIPT} could not run: {exc}") from exc
    if done.returncode != 0:
        raise ChromiumUnavailable(f"{SETUP_SCRIPT} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return done.stdout.strip().splitlines()[-1]
