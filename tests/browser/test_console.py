"""The web console in a real browser: the new-job form, the live list, filters, a job's page
with its logs, Cancel and Delete, the web-access terminal of a running replica, and the
project/location it opens on."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from support.chromium import SETUP_TIMEOUT_S
from support.server import ServerProcess, processes_with

# The first test may wait for scripts/setup-chromium.sh to install Chromium on a clean machine.
pytestmark = pytest.mark.timeout(SETUP_TIMEOUT_S + 180)
LOCATION = "us-central1"
# A scope no test's `project` fixture uses: the console must find it by itself.
OTHER_PROJECT, OTHER_LOCATION = "other-proj", "europe-west4"
UI_TIMEOUT_MS = 30_000
Shot = Callable[[Page, str], Path]

BAD_YAML = """workerPoolSpecs:
  - machineSpec:
      acceleratorCount: 0
    replicaCount: 2
    containerSpec:
      imageUri: local/python
      command: [python3, -c, "print('hi')"]
"""
GOOD_YAML = f"""workerPoolSpecs:
  - machineSpec:
      machineType: n1-standard-4
    replicaCount: 1
    containerSpec:
      imageUri: local/python
      command: ["{sys.executable}", -c, "import time; time.sleep(2); print('done')"]
"""
# Records every state each row of the list shows, from before the list is first drawn.
RECORD_STATES = """() => {
  window.__states = {};
  window.__sameDocument = true;
  new MutationObserver(() => {
    for (const row of document.querySelectorAll("tr[data-job-id]")) {
      const seen = (window.__states[row.dataset.jobId] ||= []);
      const state = row.querySelector(".badge")?.textContent;
      if (state && seen.at(-1) !== state) seen.push(state);
    }
  }).observe(document.getElementById("main"), {subtree: true, childList: true, characterData: true});
}"""


def jobs_url(server: ServerProcess, project: str, location: str = LOCATION) -> str:
    return f"{server.url}/v1/projects/{project}/locations/{location}/customJobs"


def create(
    server: ServerProcess, project: str, name: str, command: list[str], location: str = LOCATION, **spec: Any
) -> str:
    body = {
        "displayName": name,
        "labels": spec.pop("labels", {}),
        "jobSpec": {
            "workerPoolSpecs": [
                {
                    "machineSpec": {"machineType": "n1-standard-4"},
                    "replicaCount": 1,
                    "containerSpec": {"imageUri": "local/python", "command": command},
                }
            ],
            **spec,
        },
    }
    response = requests.post(jobs_url(server, project, location), json=body, timeout=10)
    response.raise_for_status()
    return str(response.json()["name"])


def state(server: ServerProcess, name: str) -> str:
    return str(requests.get(f"{server.url}/v1/{name}", timeout=10).json()["state"])


def wait_state(server: ServerProcess, name: str, wanted: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while (current := state(server, name)) != wanted:
        assert time.monotonic() < deadline, f"{name} still {current}"
        time.sleep(0.1)


def list_page(project: str, location: str = LOCATION) -> str:
    return f"/#/projects/{project}/locations/{location}/customJobs"


def job_page(name: str) -> str:
    return f"/#/{name}"


def test_form_shows_errors_on_fields_then_creates_and_the_list_follows_the_job(
    page: Page, console_server: ServerProcess, project: str, screenshot: Shot
) -> None:
    # Company for the screenshot: jobs that ended each way, and one that keeps running.
    create(console_server, project, "eval-nightly", ["true"], labels={"team": "nlp"})
    create(console_server, project, "bad-shard", ["sh", "-c", "echo shard 7 is corrupt; exit 3"])
    running = create(console_server, project, "train-long", ["sleep", "600"], labels={"team": "vision"})
    page.goto(list_page(project) + ":new")
    page.fill("#labels", "suite=browser")
    page.fill("#config", BAD_YAML)
    page.click("#create")
    expect(page.locator("#displayName-error")).to_contain_text("Required")
    config_error = page.locator("#config-error")
    expect(config_error).to_contain_text("line 2")
    expect(config_error).to_contain_text("jobSpec.workerPoolSpecs[0].machineSpec.machineType")
    expect(config_error).to_contain_text("must have exactly 1 replica")
    expect(page.locator("#config")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".gutter .bad")).to_have_text(["2", "4"])
    screenshot(page, "form-errors")

    page.fill("#displayName", "from-the-form")
    page.fill("#config", GOOD_YAML)
    page.evaluate(RECORD_STATES)
    page.click("#create")
    page.wait_for_url("**/customJobs?created=*")
    job_id = page.url.rsplit("created=", 1)[1]
    row = page.locator(f'tr[data-job-id="{job_id}"]')
    expect(row).to_contain_text("from-the-form")
    expect(row).to_contain_text("suite: browser")
    expect(row.locator(".badge")).to_have_text("Succeeded", timeout=60_000)
    states = page.evaluate(f"window.__states[{json.dumps(job_id)}]")
    # PENDING lasts milliseconds here, so the list may first draw it as RUNNING: either way it
    # was drawn unfinished, and then changed, on the same document (never reloaded).
    assert states[0] in ("Queued", "Pending", "Running") and states[-1] == "Succeeded", states
    assert page.evaluate("window.__sameDocument") is True
    expect(row.locator("td").nth(6)).not_to_be_empty()  # the duration
    expect(page.locator("tr[data-job-id] .badge")).to_have_text(
        ["Succeeded", "Running", "Failed", "Succeeded"]
    )
    screenshot(page, "list")
    requests.post(f"{console_server.url}/v1/{running}:cancel", json={}, timeout=10).raise_for_status()


def test_filter_the_list_by_label(page: Page, console_server: ServerProcess, project: str) -> None:
    red = create(console_server, project, "red-job", ["true"], labels={"team": "red"})
    blue = create(console_server, project, "blue-job", ["true"], labels={"team": "blue"})
    page.goto(list_page(project))
    rows = page.locator("tr[data-job-id]")
    expect(rows).to_have_count(2)
    page.fill("#filter", 'labels.team="red"')
    page.press("#filter", "Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-job-id", red.rsplit("/", 1)[1])
    assert "filter=" in page.url
    page.fill("#filter", "labels.team=")
    page.press("#filter", "Enter")
    expect(page.locator("#filter-error")).not_to_be_empty()
    expect(page.locator("#filter")).to_have_attribute("aria-invalid", "true")
    assert blue


TICKER = [
    sys.executable,
    "-u",
    "-c",
    "import time\nfor i in range(1, 400):\n    print(f'tick {i}')\n    time.sleep(0.2)",
]


def test_follow_a_running_jobs_logs_live_and_search_them(
    page: Page, console_server: ServerProcess, project: str, screenshot: Shot
) -> None:
    name = create(console_server, project, "ticker", TICKER, labels={"kind": "logs"})
    page.goto(job_page(name))
    log = page.locator("#log")
    expect(log).to_contain_text("tick 2")
    expect(page.locator("h1 .badge")).to_have_text("Running")
    later = int(page.locator("#log-count").inner_text().split()[0]) + 5
    expect(log).to_contain_text(f"tick {later}")  # new lines arrive without any action
    expect(page.locator("h1 .badge")).to_have_text("Running")
    expect(page.locator("#timeline")).to_contain_text("all replicas started")
    page.click("#spec-json-tab")
    expect(page.locator("#spec-json")).to_contain_text('"workerPoolSpecs"')
    page.fill("#log-search", "tick 1")
    expect(log.locator("mark").first).to_have_text("tick 1")
    for line in log.inner_text().splitlines():
        assert "tick 1" in line
    expect(page.locator("#log-count")).to_contain_text(" of ")
    page.fill("#log-search", "")
    page.locator("#spec-json-tab").evaluate("el => el.previousElementSibling.click()")
    screenshot(page, "job")
    requests.post(f"{console_server.url}/v1/{name}:cancel", json={}, timeout=10).raise_for_status()


def test_cancel_and_delete_a_job_from_its_page(
    page: Page, console_server: ServerProcess, project: str
) -> None:
    name = create(console_server, project, "to-cancel", ["sleep", "600"])
    page.goto(job_page(name))
    expect(page.locator("h1 .badge")).to_have_text("Running")
    expect(page.locator("#delete")).to_be_disabled()
    page.click("#cancel")
    expect(page.locator("#confirm")).to_be_visible()
    page.get_by_role("button", name="Keep it").click()  # the first answer: no
    time.sleep(0.5)
    assert state(console_server, name) == "JOB_STATE_RUNNING"
    page.click("#cancel")
    page.click("#confirm-yes")
    expect(page.locator("h1 .badge")).to_have_text("Cancelled", timeout=UI_TIMEOUT_MS)
    expect(page.locator("#job-error")).to_contain_text("CANCELED")
    expect(page.locator("#timeline")).to_contain_text("Cancelling")
    expect(page.locator("#cancel")).to_be_disabled()
    page.click("#delete")
    page.click("#confirm-yes")
    page.wait_for_url(f"**{list_page(project)}")
    assert requests.get(f"{console_server.url}/v1/{name}", timeout=10).status_code == 404


def test_web_access_terminal_of_a_running_replica(
    page: Page, console_server: ServerProcess, project: str, screenshot: Shot
) -> None:
    name = create(console_server, project, "with-shell", ["sleep", "6001"], enableWebAccess=True)
    page.goto(job_page(name))
    link = page.locator('#web-access a[data-replica="workerpool0-0"]')
    with page.context.expect_page() as opened:
        link.click()
    term = opened.value
    expect(term.locator("#term-status")).to_have_attribute("data-state", "open")
    screen = term.locator(".xterm-rows")
    expect(screen).to_contain_text("workerpool0-0$")
    term.keyboard.type("echo $CLUSTER_SPEC\n")
    expect(screen).to_contain_text('"cluster": {"workerpool0": ["127.0.0.1:')
    expect(screen).to_contain_text('"task": {"type": "workerpool0", "index": 0}')
    screenshot(term, "terminal")

    term.keyboard.type("sleep 4711\n")
    _wait(lambda: processes_with("sleep 4711"), "the sleep typed into the terminal never started")
    term.keyboard.press("Control+C")
    _wait(lambda: not processes_with("sleep 4711"), "Ctrl-C did not stop the sleep")
    term.keyboard.type("echo after-$((6*7))\n")
    expect(screen).to_contain_text("after-42")

    size = "[window.customjobsTerminal.cols, window.customjobsTerminal.rows]"
    before = term.evaluate(size)
    term.set_viewport_size({"width": 700, "height": 500})
    term.wait_for_function(f"before => {size}.join() !== before.join()", arg=before)
    cols, rows = term.evaluate(size)
    term.keyboard.type("clear; stty size\n")
    expect(screen).to_contain_text(f"{rows} {cols}")

    term.keyboard.type("sleep 4712 &\n")
    _wait(lambda: processes_with("sleep 4712"), "the background sleep never started")
    term.close()
    _wait(lambda: not processes_with("sleep 4712"), "closing the terminal left its processes running")
    time.sleep(0.5)
    assert state(console_server, name) == "JOB_STATE_RUNNING"
    assert processes_with("sleep 6001"), "closing the terminal ended the replica"
    requests.post(f"{console_server.url}/v1/{name}:cancel", json={}, timeout=10).raise_for_status()
    wait_state(console_server, name, "JOB_STATE_CANCELLED")
    expect(page.locator("#web-access")).to_have_count(0, timeout=UI_TIMEOUT_MS)


def test_the_list_fits_a_narrow_screen(
    page: Page, console_server: ServerProcess, project: str, screenshot: Shot
) -> None:
    create(console_server, project, "narrow-a", ["echo", "a line"], labels={"team": "red", "size": "s"})
    create(console_server, project, "narrow-b", ["sleep", "1"], labels={"team": "blue"})
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(list_page(project))
    expect(page.locator("tr[data-job-id]")).to_have_count(2)
    expect(page.locator("table.jobs thead")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "list-narrow")
    page.click("text=narrow-a")
    expect(page.locator("#timeline")).to_contain_text("Succeeded")
    expect(page.locator("#log")).to_contain_text("a line")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_first_visit_opens_the_scope_with_the_latest_job(page: Page, console_server: ServerProcess) -> None:
    # A user whose jobs are all outside my-project: `/` must not greet them with an empty list.
    name = create(console_server, OTHER_PROJECT, "elsewhere", ["true"], location=OTHER_LOCATION)
    page.goto("/")
    page.wait_for_url(f"**{list_page(OTHER_PROJECT, OTHER_LOCATION)}")
    expect(page.locator(f'tr[data-job-id="{name.rsplit("/", 1)[1]}"]')).to_contain_text("elsewhere")
    expect(page.locator("#scope [name=project]")).to_have_value(OTHER_PROJECT)
    expect(page.locator("#scope [name=location]")).to_have_value(OTHER_LOCATION)
    picker = page.locator("#scope-pick")
    other = f"projects/{OTHER_PROJECT}/locations/{OTHER_LOCATION}"
    expect(picker.locator(f'option[value="{other}"]')).to_contain_text(OTHER_PROJECT)
    expect(picker).to_have_value(other)


def test_the_chosen_scope_is_remembered_across_reloads(
    page: Page, console_server: ServerProcess, project: str
) -> None:
    chosen = create(console_server, OTHER_PROJECT, "chosen", ["true"], location=OTHER_LOCATION)
    create(console_server, project, "newest", ["true"])  # the latest job is NOT in the chosen scope
    page.goto("/")
    page.wait_for_url(f"**{list_page(project)}")
    other = f"projects/{OTHER_PROJECT}/locations/{OTHER_LOCATION}"
    page.select_option("#scope-pick", other)
    page.wait_for_url(f"**{list_page(OTHER_PROJECT, OTHER_LOCATION)}")
    row = page.locator(f'tr[data-job-id="{chosen.rsplit("/", 1)[1]}"]')
    expect(row).to_contain_text("chosen")
    for reopen in (page.reload, lambda: page.goto("/")):  # the same tab, and `/` opened again
        reopen()
        page.wait_for_url(f"**{list_page(OTHER_PROJECT, OTHER_LOCATION)}")
        expect(row).to_contain_text("chosen")
        expect(page.locator("#scope [name=project]")).to_have_value(OTHER_PROJECT)
        expect(page.locator("#scope-pick")).to_have_value(other)


def _wait(condition: Any, message: str, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.05)
