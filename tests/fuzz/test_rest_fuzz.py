"""Fuzz the REST API from its OpenAPI description (docs/openapi.yaml) against a live server.

schemathesis generates requests that fit the description and requests that break it
(wrong types, missing fields, odd strings in paths and queries). Every one must get a
well-formed answer: a success, or an error in the envelope its path promises (google.rpc's,
or Cloud Storage's under /storage/); never a 5xx, never a hang (each request has a
timeout), never a traceback. The server runs with authentication on and the fuzzer calls
as an admin, so every request reaches its handler; no fuzzed job can run (the server has
almost no capacity, so creates that pass validation are refused as too large).

The normal suite sends about 20 requests per operation (19 operations: ~400 requests);
`make fuzz` sends CUSTOMJOBS_FUZZ_EXAMPLES=110 per operation, over 2,000 in all.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from customjobs.errors import RpcCode
from support.security import ROOT, bearer, write_auth_files
from support.server import ServerProcess

DOCS = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
EXAMPLES_PER_OPERATION = int(os.environ.get("CUSTOMJOBS_FUZZ_EXAMPLES", "20"))
REQUEST_TIMEOUT_S = 15.0
RPC_STATUSES = frozenset(code.name for code in RpcCode)

schema = schemathesis.openapi.from_path(DOCS)
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=EXAMPLES_PER_OPERATION
)
SENT: list[str] = []


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("fuzz")
    flags = write_auth_files(root / "auth")
    tiny = ["--cpus", "0.01", "--memory-gb", "0.01", "--strict-capacity"]
    server = ServerProcess(root / "server", *flags, *tiny)
    server.start()
    yield server
    server.stop()
    # `make fuzz` runs pytest with -s: the count of requests sent is part of its report.
    print(f"\nfuzz: {len(SENT)} requests over {len(set(SENT))} paths, none answered badly")
    log = server.log_path.read_text()
    assert "Traceback" not in log, log[-5000:]


def check_answer(path: str, status: int, body: Any, text: str) -> None:
    """A success, or an error in the envelope this path promises; never a 5xx or a traceback."""
    assert status < 500, f"{status} for {path}: {text[:500]}"
    assert "Traceback" not in text and 'File "/' not in text, text[:500]
    if status < 400:
        return
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), f"{status} {path}: {text[:300]}"
    error = body["error"]
    assert error.get("code") == status and isinstance(error.get("message"), str) and error["message"]
    if path.startswith("/storage/"):
        assert isinstance(error.get("errors"), list) and error["errors"], error
    else:
        assert error.get("status") in RPC_STATUSES, error


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_well_formed(case: schemathesis.Case, fuzz_server: ServerProcess) -> None:
    response = case.call(base_url=fuzz_server.url, headers=bearer(ROOT), timeout=REQUEST_TIMEOUT_S)
    try:
        body = response.json()
    except ValueError:
        body = None
    SENT.append(case.path)
    check_answer(case.formatted_path, response.status_code, body, response.text)
