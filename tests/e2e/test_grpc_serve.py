"""`serve`'s gRPC options: the user's own certificate, a reused self-signed one, and bad flags."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grpc
from google.cloud import aiplatform_v1 as av1
from google.cloud.aiplatform_v1.services.job_service.transports import JobServiceGrpcTransport

from customjobs.api.grpc.tls import ensure_self_signed
from e2e.grpc_helpers import ROOTS_ENV, GrpcServerProcess
from e2e.vertex import PARENT


def test_user_certificate_serves_tls_and_prints_no_roots_line(tmp_path: Path) -> None:
    own = ensure_self_signed(tmp_path / "own")
    server = GrpcServerProcess(
        tmp_path / "data", "--grpc-tls", "--tls-cert", str(own.cert), "--tls-key", str(own.key)
    )
    server.start()
    try:
        # Roots passed explicitly: the environment variable is read once per process.
        credentials = grpc.ssl_channel_credentials(root_certificates=own.cert.read_bytes())
        with grpc.secure_channel(f"localhost:{server.grpc_port}", credentials) as channel:
            client = av1.JobServiceClient(transport=JobServiceGrpcTransport(channel=channel))
            assert list(client.list_custom_jobs(parent=PARENT)) == []
    finally:
        server.stop()
    assert ROOTS_ENV not in server.log_path.read_text()
    assert not (tmp_path / "data" / "tls").exists()


def test_self_signed_certificate_survives_a_restart(tmp_path: Path) -> None:
    paths = []
    for _ in range(2):
        server = GrpcServerProcess(tmp_path / "data", "--grpc-tls")
        server.start()
        server.stop()
        paths.append(Path(server.roots_file()).read_bytes())
    assert paths[0] == paths[1]


def test_tls_flags_without_grpc_port_are_refused(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "customjobs.cli.main", "serve", "--data-dir", str(tmp_path)]
    for extra in (["--grpc-tls"], ["--grpc-port", "1", "--tls-cert", __file__]):
        done = subprocess.run(argv + extra, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, done.stderr
        assert "--grpc" in done.stderr or "--tls" in done.stderr
