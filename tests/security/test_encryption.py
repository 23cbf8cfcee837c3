"""Customer-managed keys: a job with encryptionSpec keeps its spec, logs and outputs sealed at rest.

After the job ends, none of its plaintext bytes are anywhere in the data dir (the database,
the replica logs, the bucket), yet the API reads all of it as usual; with the key disabled
every read fails naming the key, and works again once it is enabled.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from support.security import ALICE, BOB, PARENT_A, PARENT_B, bearer, write_auth_files
from support.server import ServerProcess

KEY_A = "projects/team-a/locations/us-central1/keyRings/ring/cryptoKeys/jobs"
KEY_B = "projects/team-b/locations/us-central1/keyRings/ring/cryptoKeys/jobs"
SPEC_SECRET = "spec-secret-7f3a91"
LOG_SECRET = "log-secret-2c8e44"
OUTPUT_SECRET = b"output-secret-9d1b07"
BUCKET = "team-a-models"
SCRIPT = (
    "import os, pathlib\n"
    f"print('{LOG_SECRET}', os.environ['TOKEN_FOR_THE_TEST'])\n"
    f"out = pathlib.Path('/gcs/{BUCKET}/run/model')\n"
    "out.mkdir(parents=True, exist_ok=True)\n"
    f"(out / 'weights.bin').write_bytes({OUTPUT_SECRET!r} * 1000)\n"
)


def keys(data_dir: Path, *args: str) -> str:
    argv = [sys.executable, "-m", "customjobs.cli.main", "keys", "--data-dir", str(data_dir), *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("encryption")
    srv = ServerProcess(root / "server", *write_auth_files(root / "auth"))
    keys(srv.data_dir, "create", KEY_A)
    keys(srv.data_dir, "create", KEY_B)
    srv.start()
    yield srv
    srv.stop()


def body(key: str, command: list[str] | None = None) -> dict[str, object]:
    return {
        "displayName": "sealed",
        "encryptionSpec": {"kmsKeyName": key},
        "jobSpec": {
            "baseOutputDirectory": {"outputUriPrefix": f"gs://{BUCKET}/run"},
            "workerPoolSpecs": [
                {
                    "machineSpec": {"machineType": "n1-standard-1"},
                    "replicaCount": "1",
                    "containerSpec": {
                        "imageUri": "local",
                        "command": command or [sys.executable, "-c", SCRIPT],
                        "env": [{"name": "TOKEN_FOR_THE_TEST", "value": SPEC_SECRET}],
                    },
                }
            ],
        },
    }


def create(server: ServerProcess, parent: str, token: str, key: str) -> requests.Response:
    return requests.post(
        f"{server.url}/v1/{parent}/customJobs", json=body(key), headers=bearer(token), timeout=30
    )


def wait_ended(server: ServerProcess, name: str) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        current = requests.get(f"{server.url}/v1/{name}", headers=bearer(ALICE), timeout=30).json()
        if current["state"] in ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"):
            return dict(current)
        time.sleep(0.1)
    raise AssertionError(f"{name} did not end")


def files_containing(root: Path, needle: bytes) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and needle in path.read_bytes():
            found.append(path)
    return found


def test_keys_that_cannot_be_used_are_refused_at_create(server: ServerProcess) -> None:
    expected = (
        "Provided CryptoKey {} cannot be used in Vertex AI service. Please make sure the CryptoKey exists "
        "and is enabled, and that the caller has Encryption and Decryption access to the CryptoKey."
    )
    for token, parent, key in (
        (ALICE, PARENT_A, KEY_A + "-missing"),  # no such key
        (ALICE, PARENT_A, KEY_B),  # a key of a project alice has no role in
        (BOB, PARENT_B, KEY_A),
    ):
        refused = create(server, parent, token, key)
        assert refused.status_code == 400
        assert refused.json()["error"] == {
            "code": 400,
            "message": expected.format(key),
            "status": "INVALID_ARGUMENT",
        }


def test_sealed_at_rest_readable_through_the_api_unreadable_when_disabled(server: ServerProcess) -> None:
    made = create(server, PARENT_A, ALICE, KEY_A)
    assert made.status_code == 200, made.text
    name = made.json()["name"]
    ended = wait_ended(server, name)
    assert ended["state"] == "JOB_STATE_SUCCEEDED", ended

    for needle in (SPEC_SECRET.encode(), LOG_SECRET.encode(), OUTPUT_SECRET):
        assert files_containing(server.data_dir, needle) == [], needle

    job = requests.get(f"{server.url}/v1/{name}", headers=bearer(ALICE), timeout=30).json()
    assert job["jobSpec"]["workerPoolSpecs"][0]["containerSpec"]["env"][0]["value"] == SPEC_SECRET
    assert job["encryptionSpec"] == {"kmsKeyName": KEY_A}
    logs = requests.get(f"{server.url}/customjobs/v1/{name}/logs", headers=bearer(ALICE), timeout=30)
    assert f"{LOG_SECRET} {SPEC_SECRET}" in logs.text
    job_id = name.rsplit("/", 1)[1]
    entries = requests.post(
        f"{server.url}/v2/entries:list",
        json={"resourceNames": ["projects/team-a"], "filter": f'resource.labels.job_id="{job_id}"'},
        headers=bearer(ALICE),
        timeout=30,
    ).json()["entries"]
    assert any(LOG_SECRET in e["textPayload"] for e in entries)
    media = f"{server.url}/storage/v1/b/{BUCKET}/o/run%2Fmodel%2Fweights.bin?alt=media"
    assert requests.get(media, headers=bearer(ALICE), timeout=30).content == OUTPUT_SECRET * 1000
    listing = requests.get(f"{server.url}/storage/v1/b/{BUCKET}/o", headers=bearer(ALICE), timeout=30).json()
    assert listing["items"][0]["size"] == str(len(OUTPUT_SECRET) * 1000)

    keys(server.data_dir, "disable", KEY_A)
    for response in (
        requests.get(f"{server.url}/v1/{name}", headers=bearer(ALICE), timeout=30),
        requests.get(f"{server.url}/customjobs/v1/{name}/logs", headers=bearer(ALICE), timeout=30),
        requests.post(
            f"{server.url}/v2/entries:list",
            json={"resourceNames": ["projects/team-a"], "filter": f'resource.labels.job_id="{job_id}"'},
            headers=bearer(ALICE),
            timeout=30,
        ),
    ):
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["status"] == "FAILED_PRECONDITION" and KEY_A in error["message"], error
        assert "disabled" in error["message"]
    download = requests.get(media, headers=bearer(ALICE), timeout=30)
    assert download.status_code == 400 and KEY_A in download.text and "FAILED_PRECONDITION" in download.text
    listed = requests.get(f"{server.url}/v1/{PARENT_A}/customJobs", headers=bearer(ALICE), timeout=30).json()
    shown = next(j for j in listed["customJobs"] if j["name"] == name)
    assert "jobSpec" not in shown and shown["encryptionSpec"] == {"kmsKeyName": KEY_A}
    refused = create(server, PARENT_A, ALICE, KEY_A)
    assert refused.status_code == 400 and "cannot be used" in refused.text

    keys(server.data_dir, "enable", KEY_A)
    assert requests.get(media, headers=bearer(ALICE), timeout=30).content == OUTPUT_SECRET * 1000
    assert LOG_SECRET in requests.get(f"{server.url}/customjobs/v1/{name}/logs", headers=bearer(ALICE)).text


def test_keys_cli_lists_and_refuses_bad_names(server: ServerProcess) -> None:
    listed = keys(server.data_dir, "list")
    assert f"{KEY_A}\tENABLED" in listed and f"{KEY_B}\tENABLED" in listed
    argv = [sys.executable, "-m", "customjobs.cli.main", "keys", "--data-dir", str(server.data_dir)]
    bad = subprocess.run([*argv, "create", "projects/../x"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "invalid key name" in bad.stderr
    missing = subprocess.run([*argv, "disable", KEY_A + "-none"], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "no key" in missing.stderr


def test_a_queued_job_whose_key_is_disabled_fails_saying_why(tmp_path: Path) -> None:
    """The scheduler reads a job's spec once; a server that must read it again (after a restart)
    while the key is disabled fails the job with FAILED_PRECONDITION naming the key."""
    key = "projects/team-a/locations/us-central1/keyRings/ring/cryptoKeys/queued"
    srv = ServerProcess(tmp_path / "server", *write_auth_files(tmp_path / "auth"), "--cpus", "1")
    keys(srv.data_dir, "create", key)
    srv.start()
    try:
        jobs = f"{srv.url}/v1/{PARENT_A}/customJobs"
        blocker = requests.post(jobs, json=body(key, ["sleep", "300"]), headers=bearer(ALICE), timeout=30)
        queued = requests.post(jobs, json=body(key), headers=bearer(ALICE), timeout=30).json()["name"]
        srv.stop()  # replicas keep running; the next server reads every spec afresh
        keys(srv.data_dir, "disable", key)
        srv.start()
        requests.post(
            f"{srv.url}/v1/{blocker.json()['name']}:cancel", json={}, headers=bearer(ALICE), timeout=30
        )
        listed: dict[str, object] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            page = requests.get(jobs, headers=bearer(ALICE), timeout=30).json()
            listed = next(j for j in page["customJobs"] if j["name"] == queued)
            if listed["state"] == "JOB_STATE_FAILED":
                break
            time.sleep(0.1)
        assert listed["state"] == "JOB_STATE_FAILED", listed
        assert listed["error"]["code"] == 9 and key in listed["error"]["message"]  # type: ignore[index]
    finally:
        srv.stop()


def tuning_body(key: str) -> dict[str, object]:
    report = (
        f"import hypertune; print('{LOG_SECRET}'); "
        "hypertune.HyperTune().report_hyperparameter_tuning_metric('m', 1.0)"
    )
    trial = body(key, [sys.executable, "-c", report])
    return {
        "displayName": "sealed-study",
        "encryptionSpec": {"kmsKeyName": key},
        "maxTrialCount": 1,
        "parallelTrialCount": 1,
        "studySpec": {
            "metrics": [{"metricId": "m", "goal": "MAXIMIZE"}],
            "parameters": [{"parameterId": "x", "doubleValueSpec": {"minValue": 0, "maxValue": 1}}],
        },
        "trialJobSpec": trial["jobSpec"],
    }


def test_tuning_jobs_follow_the_same_key_rules_and_seal_their_trials(server: ServerProcess) -> None:
    url = f"{server.url}/v1/{PARENT_A}/hyperparameterTuningJobs"
    refused = requests.post(url, json=tuning_body(KEY_B), headers=bearer(ALICE), timeout=30)
    assert refused.status_code == 400 and KEY_B in refused.json()["error"]["message"]
    made = requests.post(url, json=tuning_body(KEY_A), headers=bearer(ALICE), timeout=30)
    assert made.status_code == 200, made.text
    name = made.json()["name"]
    deadline = time.monotonic() + 60
    while (job := requests.get(f"{server.url}/v1/{name}", headers=bearer(ALICE), timeout=30).json())[
        "state"
    ] != "JOB_STATE_SUCCEEDED":
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    trial_job = wait_ended(server, job["trials"][0]["customJob"])
    assert trial_job["encryptionSpec"] == {"kmsKeyName": KEY_A}
    # The trial's execution is sealed like any CustomJob's: its log is on disk, but not in plaintext.
    log_dir = server.data_dir / "jobs" / str(trial_job["name"]).rsplit("/", 1)[1]
    assert [p for p in log_dir.rglob("*.log") if p.stat().st_size > 0]
    assert files_containing(log_dir, LOG_SECRET.encode()) == []
