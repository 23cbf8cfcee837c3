"""Where authentication may be off, REST over TLS, and OIDC ID tokens end to end."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from support.oidc import AUDIENCE, local_issuer
from support.security import ALICE, PARENT_A, bearer, write_auth_files
from support.server import ServerProcess, free_port

START_TIMEOUT_S = 30


def serve(data_dir: Path, *args: str, timeout_s: float = 20) -> subprocess.CompletedProcess[str]:
    """A server that is expected to refuse to start."""
    argv = [sys.executable, "-m", "customjobs.cli.main", "serve", "--data-dir", str(data_dir), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)


def test_no_authentication_beyond_loopback(tmp_path: Path) -> None:
    for host in ("0.0.0.0", "::", "192.0.2.1"):
        refused = serve(tmp_path / "d", "--host", host, "--port", str(free_port()))
        assert refused.returncode == 2 and "refusing to listen on" in refused.stderr, refused.stderr


def test_inconsistent_security_flags_are_refused(tmp_path: Path) -> None:
    flags = write_auth_files(tmp_path / "auth")
    tokens, policy = flags[1], flags[3]
    bad_tokens = tmp_path / "bad.yaml"
    bad_tokens.write_text("short: alice\n")
    for args, needle in (
        (["--policy", policy], "--policy needs authentication"),
        (["--auth-tokens", tokens], "no --policy"),
        (["--auth-tokens", str(bad_tokens), "--policy", policy], "at least 16 characters"),
        (["--oidc-issuer", "http://127.0.0.1:9", "--policy", policy], "--oidc-audience"),
    ):
        refused = serve(tmp_path / "d", "--port", str(free_port()), *args)
        assert refused.returncode == 1 and needle in refused.stderr, (args, refused.stderr)


def test_authentication_off_on_loopback_says_so(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "open")
    server.start()
    try:
        listed = requests.get(f"{server.url}/v1/{PARENT_A}/customJobs", timeout=10)
        assert listed.status_code == 200
    finally:
        server.stop()
    assert "authentication is off" in server.log_path.read_text()


def test_rest_over_tls(tmp_path: Path) -> None:
    port = free_port()
    data_dir = tmp_path / "tls"
    data_dir.mkdir()
    log_path = data_dir / "server.log"
    argv = [sys.executable, "-m", "customjobs.cli.main", "serve", "--data-dir", str(data_dir)]
    argv += ["--port", str(port), "--rest-tls", *write_auth_files(tmp_path / "auth")]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        cert = data_dir / "tls" / "grpc-cert.pem"
        url = f"https://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert proc.poll() is None, log_path.read_text()
            try:
                if requests.get(url + "/healthz", verify=str(cert), timeout=1).ok:
                    break
            except (requests.RequestException, OSError):  # not listening yet, or no certificate yet
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.1)
        # No response is kept: an idle TLS connection held open by this process would make the
        # server's exit wait for asyncio's TLS shutdown timeout (30 s), as the README says.
        assert requests.get(f"{url}/v1/{PARENT_A}/customJobs", headers=bearer(ALICE), verify=str(cert)).ok
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert f"export REQUESTS_CA_BUNDLE={cert}" in log_path.read_text()
        assert f"serving https://127.0.0.1:{port}/v1" in log_path.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_oidc_id_tokens(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        yaml.safe_dump(
            {"bindings": [{"role": "user", "members": ["dana@example.com"], "projects": ["team-a"]}]}
        )
    )
    with local_issuer() as issuer:
        server = ServerProcess(
            tmp_path / "oidc",
            "--oidc-issuer", issuer.url, "--oidc-audience", AUDIENCE, "--policy", str(policy),
        )  # fmt: skip
        server.start()
        try:
            jobs = f"{server.url}/v1/{PARENT_A}/customJobs"
            dana = issuer.token({"email": "dana@example.com", "email_verified": True})
            assert requests.get(jobs, headers=bearer(dana), timeout=10).status_code == 200
            other = issuer.token({"email": "erin@example.com", "email_verified": True})
            assert requests.get(jobs, headers=bearer(other), timeout=10).status_code == 403
            expired = issuer.token({"email": "dana@example.com", "exp": int(time.time()) - 3600})
            assert requests.get(jobs, headers=bearer(expired), timeout=10).status_code == 401
            wrong_audience = issuer.token({"email": "dana@example.com", "aud": "another-app"})
            assert requests.get(jobs, headers=bearer(wrong_audience), timeout=10).status_code == 401
        finally:
            server.stop()
