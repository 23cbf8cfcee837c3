"""A test server that also serves gRPC, and the official gRPC client pointed at it."""

from __future__ import annotations

from pathlib import Path

import grpc
from google.cloud import aiplatform_v1 as av1
from google.cloud.aiplatform_v1.services.job_service.transports import JobServiceGrpcTransport

from support.server import ServerProcess, free_port

ROOTS_ENV = "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"


class GrpcServerProcess(ServerProcess):
    """`customjobs serve --grpc-port N [--grpc-tls]`: REST on .port, gRPC on .grpc_port."""

    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.grpc_port = free_port()
        super().__init__(data_dir, "--grpc-port", str(self.grpc_port), *extra)

    def roots_file(self) -> str:
        """The certificate path from the exact `export` line `serve --grpc-tls` printed."""
        prefix = f"export {ROOTS_ENV}="
        lines = [line for line in self.log_path.read_text().splitlines() if line.startswith(prefix)]
        assert lines, f"no {prefix!r} line in {self.log_path}"
        return lines[-1].removeprefix(prefix)


def plaintext_client(port: int) -> tuple[av1.JobServiceClient, grpc.Channel]:
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    return av1.JobServiceClient(transport=JobServiceGrpcTransport(channel=channel)), channel
