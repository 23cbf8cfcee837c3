"""The high-level SDK (`aiplatform.CustomJob`) end to end: over REST, and over gRPC with TLS.

The server is started with `--grpc-port --grpc-tls`, so it makes its own self-signed
certificate; the client trusts it through the exact `export` line the server printed.
See sdk_scenarios.py for why the gRPC runs happen in a child process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.cloud import aiplatform

from e2e import sdk_scenarios
from e2e.grpc_helpers import ROOTS_ENV, GrpcServerProcess

TESTS_DIR = Path(__file__).resolve().parents[1]
SCENARIO_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GrpcServerProcess]:
    srv = GrpcServerProcess(tmp_path_factory.mktemp("sdk"), "--grpc-tls")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def sdk_globals(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The SDK's process-wide settings as they were, after the test changed them."""
    monkeypatch.setattr(aiplatform.jobs, "_JOB_WAIT_TIME", sdk_scenarios.JOB_WAIT_TIME_S)
    # aiplatform.init is bound to this very object, so it is restored in place, not replaced.
    config = aiplatform.initializer.global_config
    saved = dict(vars(config))
    yield
    vars(config).clear()
    vars(config).update(saved)


@pytest.mark.parametrize("scenario", list(sdk_scenarios.SCENARIOS))
@pytest.mark.usefixtures("sdk_globals")
def test_sdk_over_rest(scenario: str, server: GrpcServerProcess) -> None:
    sdk_scenarios.configure("rest", server.url)
    sdk_scenarios.SCENARIOS[scenario]()


@pytest.mark.parametrize("scenario", list(sdk_scenarios.SCENARIOS))
def test_sdk_over_grpc_tls(scenario: str, server: GrpcServerProcess) -> None:
    env = {**os.environ, ROOTS_ENV: server.roots_file(), "PYTHONPATH": str(TESTS_DIR)}
    argv = [sys.executable, "-m", "e2e.sdk_scenarios", "grpc", f"localhost:{server.grpc_port}", scenario]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=SCENARIO_TIMEOUT_S)
    assert done.returncode == 0, f"{scenario} failed:\n{done.stdout}\n{done.stderr}"
    assert f"{scenario} over grpc: ok" in done.stdout


def test_the_printed_certificate_is_the_one_in_the_data_dir(server: GrpcServerProcess) -> None:
    assert server.roots_file() == str(server.data_dir / "tls" / "grpc-cert.pem")
