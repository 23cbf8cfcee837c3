"""`customjobs jobs ...` as a user runs it: a subprocess talking to a real server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.server import ServerProcess, free_port

PROJECT = "cli-project"
REGION = "europe-west4"
NAME_RE = re.compile(rf"^projects/{PROJECT}/locations/{REGION}/customJobs/\d{{19}}$")
POOL = "machine-type=n1-standard-4,container-image-uri=local"
CLI_TIMEOUT_S = 60
Cli = Callable[..., subprocess.CompletedProcess[str]]


def run_cli(endpoint: str, *args: str, timeout_s: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "customjobs.cli.main", "jobs", "--endpoint", endpoint]
    argv += ["--project", PROJECT, "--region", REGION, *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, check=False)


@pytest.fixture(scope="module")
def cli(server: ServerProcess) -> Cli:
    def call(*args: str, timeout_s: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
        return run_cli(server.url, *args, timeout_s=timeout_s)

    return call


def create(cli: Cli, *args: str) -> str:
    """A new job's full name; the CLI prints it alone on stdout."""
    done = cli("create", *args)
    assert done.returncode == 0, done.stderr
    name = done.stdout.strip()
    assert NAME_RE.match(name), done.stdout
    assert f"CustomJob [{name}] is submitted successfully." in done.stderr
    return name


def describe(cli: Cli, name: str) -> dict[str, Any]:
    done = cli("describe", name, "--format", "json")
    assert done.returncode == 0, done.stderr
    job: dict[str, Any] = json.loads(done.stdout)
    return job


def test_create_with_flags_runs_two_pools_and_skips_an_empty_one(cli: Cli) -> None:
    # The primary lingers so that both workers print before the job ends and they are stopped.
    name = create(
        cli, "--display-name=cli-flags", f"--worker-pool-spec={POOL}", "--worker-pool-spec=",
        f"--worker-pool-spec={POOL},replica-count=2", "--command=sh", "--args=-c,echo hi && sleep 1",
        "--labels=suite=cli,kind=flags",
    )  # fmt: skip
    waited = cli("wait", name)
    assert (waited.returncode, waited.stdout) == (0, "JOB_STATE_SUCCEEDED\n"), waited.stderr

    job = describe(cli, name)
    first, skipped, workers = job["jobSpec"]["workerPoolSpecs"]
    assert first["replicaCount"] == "1" and skipped == {} and workers["replicaCount"] == "2"
    assert first["machineSpec"] == {"machineType": "n1-standard-4"}
    assert workers["containerSpec"] == {
        "imageUri": "local",
        "command": ["sh"],
        "args": ["-c", "echo hi && sleep 1"],
    }
    assert job["labels"] == {"suite": "cli", "kind": "flags"}
    assert job["displayName"] == "cli-flags"

    logs = cli("logs", name)
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout.splitlines() == ["[workerpool0-0] hi", "[workerpool2-0] hi", "[workerpool2-1] hi"]
    one = cli("logs", name.rsplit("/", 1)[1], "--replica", "workerpool2-1")
    assert (one.returncode, one.stdout) == (0, "hi\n")


def test_create_with_config_yaml(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "out"
    config = tmp_path / "job.yaml"
    config.write_text(
        f"""
workerPoolSpecs:
- machineSpec:
    machineType: n1-standard-4
  replicaCount: 1
  containerSpec:
    imageUri: local
    command: [sh, -c, 'echo model dir $AIP_MODEL_DIR']
baseOutputDirectory:
  outputUriPrefix: file://{out}
scheduling:
  timeout: 600s
"""
    )
    done = cli(
        "create",
        "--display-name",
        "cli-config",
        "--config",
        str(config),
        "--labels",
        "suite=cli",
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout)
    assert NAME_RE.match(job["name"]) and job["displayName"] == "cli-config"
    assert job["jobSpec"]["scheduling"]["timeout"] == "600s"
    assert job["jobSpec"]["baseOutputDirectory"] == {"outputUriPrefix": f"file://{out}"}
    assert cli("wait", job["name"]).returncode == 0
    logs = cli("logs", job["name"], "--replica", "workerpool0-0")
    assert logs.stdout.startswith("model dir ") and str(out) in logs.stdout


def test_flag_pools_replace_the_config_pools(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "job.yaml"
    config.write_text(
        "workerPoolSpecs:\n- machineSpec: {machineType: n1-standard-8}\n  containerSpec: {imageUri: other}\n"
        "scheduling: {timeout: 300s}\n"
    )
    done = cli(
        "create", "--display-name=cli-mixed", f"--config={config}", f"--worker-pool-spec={POOL}",
        "--command=true", "--format=yaml",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    job = yaml.safe_load(done.stdout)
    assert job["jobSpec"]["scheduling"] == {"timeout": "300s"}
    (pool,) = job["jobSpec"]["workerPoolSpecs"]
    assert pool["machineSpec"] == {"machineType": "n1-standard-4"}
    assert pool["containerSpec"] == {"imageUri": "local", "command": ["true"]}


def test_list_as_table_json_and_yaml_with_a_filter(cli: Cli) -> None:
    older = create(
        cli, "--display-name=cli-list-a", f"--worker-pool-spec={POOL}", "--command=true", "--labels=set=list"
    )
    newer = create(
        cli, "--display-name=cli-list-b", f"--worker-pool-spec={POOL}", "--command=true", "--labels=set=list"
    )
    for name in (older, newer):
        assert cli("wait", name).returncode == 0

    table = cli("list", "--filter", 'display_name="cli-list-a"')
    assert table.returncode == 0, table.stderr
    header, row = table.stdout.splitlines()
    assert header.split() == ["ID", "DISPLAY", "NAME", "STATE", "CREATED", "DURATION"]
    assert row.split()[:3] == [older.rsplit("/", 1)[1], "cli-list-a", "SUCCEEDED"]

    listed = cli("list", "--filter", "labels.set=list", "--format", "json")
    assert [job["name"] for job in json.loads(listed.stdout)] == [newer, older]
    paged = cli("list", "--filter", "labels.set=list", "--format", "json", "--page-size", "1")
    assert [job["name"] for job in json.loads(paged.stdout)] == [newer, older]
    limited = cli("list", "--filter", "labels.set=list", "--format", "yaml", "--limit", "1")
    assert [job["name"] for job in yaml.safe_load_all(limited.stdout)] == [newer]

    empty = cli("list", "--filter", 'display_name="no-such-job"')
    assert (empty.returncode, empty.stdout, empty.stderr) == (0, "", "Listed 0 items.\n")
    bad = cli("list", "--filter", "colour=blue")
    assert bad.returncode == 1 and bad.stderr.startswith("ERROR: (customjobs.jobs.list) INVALID_ARGUMENT: ")


def test_target_flags_after_the_verb(server: ServerProcess, cli: Cli) -> None:
    # gcloud users put --project/--region after the verb; the flags after it win over the group's.
    name = create(cli, "--display-name=cli-after-verb", f"--worker-pool-spec={POOL}", "--command=true")
    argv = [sys.executable, "-m", "customjobs.cli.main", "jobs"]
    after = [f"--endpoint={server.url}", "--project", PROJECT, "--region", REGION, "--token", "unused"]
    listed = subprocess.run(
        [*argv, "list", "--filter", 'display_name="cli-after-verb"', "--format", "json", *after],
        capture_output=True, text=True, timeout=CLI_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert [job["name"] for job in json.loads(listed.stdout)] == [name]
    job_id = name.rsplit("/", 1)[1]
    described = subprocess.run(
        [*argv, "--endpoint", "http://127.0.0.1:9", "describe", job_id, "--format=json", *after],
        capture_output=True, text=True, timeout=CLI_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert described.returncode == 0, described.stderr
    assert json.loads(described.stdout)["name"] == name
    elsewhere = cli("list", "--project", "another-project", "--format", "json")
    assert elsewhere.returncode == 0 and json.loads(elsewhere.stdout or "[]") == []


def test_describe_by_id_and_unknown_job(cli: Cli) -> None:
    name = create(cli, "--display-name=cli-describe", f"--worker-pool-spec={POOL}", "--command=true")
    done = cli("describe", name.rsplit("/", 1)[1])
    assert done.returncode == 0, done.stderr
    job = yaml.safe_load(done.stdout)
    assert job["name"] == name and job["displayName"] == "cli-describe"

    missing = cli("describe", "1234567890123456789")
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr == (
        "ERROR: (customjobs.jobs.describe) NOT_FOUND: The CustomJob "
        f'"projects/{PROJECT}/locations/{REGION}/customJobs/1234567890123456789" does not exist.\n'
    )
    invalid = cli("describe", "not/a/job")
    assert invalid.returncode == 1 and invalid.stderr.startswith(
        "ERROR: (customjobs.jobs.describe) Invalid job"
    )


def test_wait_exits_1_with_the_error_of_a_failed_job(cli: Cli) -> None:
    name = create(
        cli,
        "--display-name=cli-fail",
        f"--worker-pool-spec={POOL}",
        "--command=sh",
        "--args=-c,echo boom; exit 3",
    )
    done = cli("wait", name)
    assert (done.returncode, done.stdout) == (1, "JOB_STATE_FAILED\n")
    assert f"ERROR: (customjobs.jobs.wait) CustomJob [{name}] ended JOB_STATE_FAILED: " in done.stderr
    assert "exited with a non-zero status of 3" in done.stderr and "boom" in done.stderr


def test_wait_timeout_then_cancel_then_delete(cli: Cli) -> None:
    name = create(
        cli, "--display-name=cli-cancel", f"--worker-pool-spec={POOL}", "--command=sleep", "--args=60"
    )
    timed_out = cli("wait", name, "--timeout", "0.5")
    assert timed_out.returncode == 2
    assert timed_out.stderr.splitlines()[-1].startswith("ERROR: (customjobs.jobs.wait) Timed out after 0.5s")

    cancelled = cli("cancel", name)
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"Request to cancel CustomJob [{name}] has been sent." in cancelled.stderr
    waited = cli("wait", name)
    assert (waited.returncode, waited.stdout) == (1, "JOB_STATE_CANCELLED\n")
    assert describe(cli, name)["error"]["code"] == 1

    deleted = cli("delete", name)
    assert (deleted.returncode, deleted.stderr) == (0, f"Deleted CustomJob [{name}].\n")
    gone = cli("describe", name)
    assert gone.returncode == 1 and "NOT_FOUND" in gone.stderr


def test_logs_follow_prints_every_line_of_a_running_job_once(server: ServerProcess, cli: Cli) -> None:
    # Six seconds of lines: long enough to still run after two CLIs start on a loaded machine.
    script = "import time\nfor i in range(100):\n    print(f'line {i}')\n    time.sleep(0.06)\n"
    name = create(
        cli, "--display-name=cli-follow", f"--worker-pool-spec={POOL}", f"--command={sys.executable},-u",
        f"--args=^|^-c|{script}",
    )  # fmt: skip
    argv = [
        sys.executable,
        "-m",
        "customjobs.cli.main",
        "jobs",
        "--endpoint",
        server.url,
        "logs",
        name,
        "--follow",
    ]
    with (
        subprocess.Popen([*argv, "--replica", "workerpool0-0"], stdout=subprocess.PIPE, text=True) as one,
        subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) as every,
    ):
        try:
            # Both followers attached before the job ended. A backend that places through a queue
            # (Ray) may still hold it QUEUED: following a job that has not started counts too.
            state = describe(cli, name)["state"]
            assert state in ("JOB_STATE_QUEUED", "JOB_STATE_PENDING", "JOB_STATE_RUNNING")
            one_out, _ = one.communicate(timeout=CLI_TIMEOUT_S)
            every_out, _ = every.communicate(timeout=CLI_TIMEOUT_S)
        finally:
            one.kill()
            every.kill()
    assert (one.returncode, every.returncode) == (0, 0)
    assert one_out.splitlines() == [f"line {i}" for i in range(100)]
    assert every_out.splitlines() == [f"[workerpool0-0] line {i}" for i in range(100)]
    assert describe(cli, name)["state"] == "JOB_STATE_SUCCEEDED"


def test_client_side_errors(cli: Cli) -> None:
    first_empty = cli("create", "--display-name=x", "--worker-pool-spec=", f"--worker-pool-spec={POOL}")
    assert (first_empty.returncode, first_empty.stderr) == (
        1,
        "ERROR: (customjobs.jobs.create) Invalid value for [--worker-pool-spec]: "
        "Empty value is not allowed for the first `--worker-pool-spec` flag.\n",
    )
    local = cli("create", "--display-name=x", f"--worker-pool-spec={POOL},local-package-path=.")
    assert local.returncode == 1 and "Key [local-package-path] is not supported" in local.stderr
    server_side = cli("create", "--display-name=x", f"--worker-pool-spec={POOL}", "--labels=Bad=x")
    assert server_side.returncode == 1
    assert server_side.stderr.startswith("ERROR: (customjobs.jobs.create) INVALID_ARGUMENT: ")


def test_unreachable_server() -> None:
    done = run_cli(f"http://127.0.0.1:{free_port()}", "list")
    assert done.returncode == 1
    assert done.stderr.startswith(
        "ERROR: (customjobs.jobs.list) Cannot reach the server at http://127.0.0.1:"
    )
