"""The same rules through the high-level SDK, gcloud (`--access-token-file`) and our CLI (`--token`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.cloud import aiplatform

from e2e.grpc_helpers import ROOTS_ENV, GrpcServerProcess
from security import sdk_auth
from support.security import ALICE, BOB, LOCATION, PROJECT_A, UNAUTHENTICATED, denied, write_auth_files

TESTS_DIR = Path(__file__).resolve().parents[1]
TIMEOUT_S = 120


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GrpcServerProcess]:
    root = tmp_path_factory.mktemp("auth-tools")
    srv = GrpcServerProcess(root / "server", "--grpc-tls", *write_auth_files(root / "auth"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def sdk_globals() -> Iterator[None]:
    config = aiplatform.initializer.global_config
    saved, wait = dict(vars(config)), aiplatform.jobs._JOB_WAIT_TIME
    yield
    vars(config).clear()
    vars(config).update(saved)
    aiplatform.jobs._JOB_WAIT_TIME = wait


@pytest.mark.usefixtures("sdk_globals")
def test_sdk_over_rest_with_token_credentials(server: GrpcServerProcess) -> None:
    sdk_auth.scenario("rest", server.url)


def test_sdk_over_grpc_tls_with_token_credentials(server: GrpcServerProcess) -> None:
    env = {**os.environ, ROOTS_ENV: server.roots_file(), "PYTHONPATH": str(TESTS_DIR)}
    argv = [sys.executable, "-m", "security.sdk_auth", "grpc", f"localhost:{server.grpc_port}"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert "sdk auth over grpc: ok" in done.stdout


# gcloud ---------------------------------------------------------------------------------


def gcloud(
    server: GrpcServerProcess, tmp: Path, token: str | None, *args: str
) -> subprocess.CompletedProcess[str]:
    if not _which("gcloud"):
        pytest.fail("gcloud is not installed: install the Debian package google-cloud-cli")
    config = tmp / "gcloud-config"
    config.mkdir(exist_ok=True)
    (config / "gce").write_text("False")
    env = {
        **os.environ,
        "CLOUDSDK_CONFIG": str(config),
        "CLOUDSDK_CORE_PROJECT": PROJECT_A,
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_AIPLATFORM": server.url + "/",
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING": server.url + "/",
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
    }
    if token is None:
        env["CLOUDSDK_AUTH_DISABLE_CREDENTIALS"] = "true"
    else:
        token_file = tmp / "token"
        token_file.write_text(token)
        args = (*args, f"--access-token-file={token_file}")
    return subprocess.run(
        ["gcloud", "ai", "custom-jobs", *args], env=env, capture_output=True, text=True, timeout=TIMEOUT_S
    )


def _which(program: str) -> bool:
    import shutil

    return shutil.which(program) is not None


def test_gcloud_with_access_token_file(server: GrpcServerProcess, tmp_path: Path) -> None:
    spec = (
        "--worker-pool-spec=machine-type=n1-standard-1,replica-count=1,container-image-uri=local",
        f"--command={sys.executable}",
        "--args=-c,print('from gcloud')",
    )
    create = ("create", f"--region={LOCATION}", "--display-name=gcloud-auth", *spec, "--format=json")
    made = gcloud(server, tmp_path, ALICE, *create)
    assert made.returncode == 0, made.stderr
    name = json.loads(made.stdout)["name"]
    described = gcloud(server, tmp_path, ALICE, "describe", name, "--format=json")
    assert described.returncode == 0 and json.loads(described.stdout)["name"] == name
    listed = gcloud(server, tmp_path, ALICE, "list", f"--region={LOCATION}", "--format=json")
    assert name in [j["name"] for j in json.loads(listed.stdout)]

    for verb in (("describe", name), ("cancel", name), ("list", f"--region={LOCATION}")):
        refused = gcloud(server, tmp_path, BOB, *verb)
        assert refused.returncode == 1
        permission = {"describe": "get", "cancel": "cancel", "list": "list"}[verb[0]]
        assert (
            f"PERMISSION_DENIED: {denied(f'aiplatform.customJobs.{permission}', PROJECT_A)}" in refused.stderr
        )
        anonymous = gcloud(server, tmp_path, None, *verb)
        assert anonymous.returncode == 1 and f"UNAUTHENTICATED: {UNAUTHENTICATED}" in anonymous.stderr
    refused = gcloud(server, tmp_path, BOB, *create)
    assert "PERMISSION_DENIED" in refused.stderr and "aiplatform.customJobs.create" in refused.stderr

    gcloud(server, tmp_path, ALICE, "cancel", name)  # ended already, or cancelled now: either is fine
    logs = gcloud(server, tmp_path, ALICE, "stream-logs", name, "--polling-interval=1")
    assert logs.returncode in (0, 1)


# our CLI --------------------------------------------------------------------------------


def cli(
    server: GrpcServerProcess, token: str | None, *args: str, env_token: bool = False
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CUSTOMJOBS_TOKEN"}
    flags = ["--endpoint", server.url, "--project", PROJECT_A, "--region", LOCATION]
    if token is not None and env_token:
        env["CUSTOMJOBS_TOKEN"] = token
    elif token is not None:
        flags += ["--token", token]
    argv = [sys.executable, "-m", "customjobs.cli.main", "jobs", *flags, *args]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)


def test_cli_with_token_flag_and_env(server: GrpcServerProcess) -> None:
    spec = ["--worker-pool-spec", "machine-type=n1-standard-1,container-image-uri=local"]
    code = ["--command", sys.executable, "--args", "-c,print('from the cli')"]
    made = cli(server, ALICE, "create", "--display-name", "cli-auth", *spec, *code)
    assert made.returncode == 0, made.stderr
    name = made.stdout.strip()
    waited = cli(server, ALICE, "wait", name, "--timeout", "60", env_token=True)
    assert waited.stdout.strip() == "JOB_STATE_SUCCEEDED", waited.stderr
    assert "from the cli" in cli(server, ALICE, "logs", name).stdout
    assert name in cli(server, ALICE, "list", "--format", "json", env_token=True).stdout
    assert cli(server, ALICE, "describe", name).returncode == 0

    for args in (("describe", name), ("logs", name), ("cancel", name), ("delete", name), ("list",)):
        refused = cli(server, BOB, *args)
        assert refused.returncode == 1 and "PERMISSION_DENIED: Permission '" in refused.stderr, refused.stderr
        anonymous = cli(server, None, *args)
        assert anonymous.returncode == 1 and f"UNAUTHENTICATED: {UNAUTHENTICATED}" in anonymous.stderr
    refused = cli(server, BOB, "create", "--display-name", "x", *spec, *code, env_token=True)
    assert denied("aiplatform.customJobs.create", PROJECT_A) in refused.stderr

    deleted = cli(server, ALICE, "delete", name)
    assert deleted.returncode == 0, deleted.stderr
