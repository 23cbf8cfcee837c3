"""Browser tests: Playwright driving Debian's Chromium against a real `customjobs serve`.

The session fixture runs scripts/setup-chromium.sh (support/chromium.py), so a clean
machine installs the browser by itself. If it cannot, the tests fail saying why: a
console never shown to a browser is not tested.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from support import chromium as chromium_setup
from support.cleanup import cancel_all
from support.server import ServerProcess

# The pages as the last test run drew them, committed for the README.
SCREENSHOTS = chromium_setup.REPO / "docs" / "screenshots"
UPDATE_SCREENSHOTS = "CUSTOMJOBS_UPDATE_SCREENSHOTS"
# Room for several jobs at once: a job a test keeps running never queues the next one.
ROOMY = ("--cpus", "64", "--memory-gb", "256")
VIEWPORT = {"width": 1280, "height": 900}

Shot = Callable[[Page, str], Path]


@pytest.fixture(scope="session")
def chromium() -> str:
    try:
        return chromium_setup.setup()
    except chromium_setup.ChromiumUnavailable as exc:
        pytest.fail(f"Chromium is needed for the browser tests and is not usable: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("console"), *ROOMY)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def page(browser: Browser, console_server: ServerProcess) -> Iterator[Page]:
    """A fresh browser context on the console; the test fails on any uncaught page error."""
    context = browser.new_context(viewport=VIEWPORT, base_url=console_server.url)
    context.set_default_timeout(30_000)
    opened = context.new_page()
    errors: list[str] = []
    context.on("weberror", lambda error: errors.append(str(error.error)))
    yield opened
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def project(console_server: ServerProcess) -> Iterator[str]:
    """A project of the test's own, so its job list holds only its jobs; none left running."""
    name = f"console-{uuid.uuid4().hex[:8]}"
    yield name
    cancel_all(console_server.url, f"projects/{name}/locations/us-central1")


@pytest.fixture
def screenshot(tmp_path: Path) -> Shot:
    """Save a page under the test's tmp dir; with CUSTOMJOBS_UPDATE_SCREENSHOTS=1, copy it to
    docs/screenshots/ too (a plain test run leaves the committed pictures alone)."""

    def take(shown: Page, name: str) -> Path:
        path = tmp_path / f"{name}.png"
        shown.screenshot(path=str(path), full_page=True)
        if os.environ.get(UPDATE_SCREENSHOTS) == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, SCREENSHOTS / f"{name}.png")
        return path

    return take
