"""The high-level SDK with token credentials (`google.oauth2.credentials.Credentials(token=...)`).

Run in-process over REST by test_sdk_gcloud_cli_auth.py, and as a child process over gRPC
with TLS (`python -m security.sdk_auth grpc localhost:PORT`: gRPC reads its TLS roots
once per process, see e2e/sdk_scenarios.py).
"""

from __future__ import annotations

import sys
import uuid

import pytest
from google.api_core import exceptions
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import AnonymousCredentials
from google.auth.credentials import Credentials as BaseCredentials
from google.cloud import aiplatform
from google.oauth2.credentials import Credentials

from support.security import ALICE, BOB, LOCATION, PROJECT_A, UNAUTHENTICATED, denied

JOB_WAIT_TIME_S = 0.2
# Over REST, google-auth answers a 401 by trying to refresh the credentials, which a bare
# token cannot do: the SDK then raises that refresh error rather than the 401 itself.
REFUSED_401 = (exceptions.Unauthorized, exceptions.Unauthenticated, auth_exceptions.GoogleAuthError)
REFUSED_403 = (exceptions.Forbidden, exceptions.PermissionDenied)


def init(transport: str, endpoint: str, credentials: BaseCredentials) -> None:
    aiplatform.init(
        project=PROJECT_A,
        location=LOCATION,
        api_endpoint=endpoint,
        api_transport=transport,
        credentials=credentials,
        staging_bucket="gs://team-a-staging",
    )


def scenario(transport: str, endpoint: str) -> None:
    """Alice runs, lists, gets and deletes a job; bob and nobody are refused."""
    aiplatform.jobs._JOB_WAIT_TIME = JOB_WAIT_TIME_S
    name = f"sdk-auth-{uuid.uuid4().hex[:8]}"
    init(transport, endpoint, Credentials(token=ALICE))
    job = aiplatform.CustomJob(
        display_name=name,
        worker_pool_specs=[
            {
                "machine_spec": {"machine_type": "n1-standard-1"},
                "replica_count": 1,
                "container_spec": {"image_uri": "local", "command": [sys.executable, "-c", "print('sdk')"]},
            }
        ],
    )
    job.run(sync=True)
    assert job.state.name == "JOB_STATE_SUCCEEDED"
    assert [j.resource_name for j in aiplatform.CustomJob.list(filter=f'display_name="{name}"')] == [
        job.resource_name
    ]
    assert aiplatform.CustomJob.get(job.resource_name).display_name == name

    init(transport, endpoint, Credentials(token=BOB))
    with pytest.raises(REFUSED_403) as refused:
        aiplatform.CustomJob.get(job.resource_name)
    assert denied("aiplatform.customJobs.get", PROJECT_A) in refused.value.message
    with pytest.raises(REFUSED_403):
        aiplatform.CustomJob.list()

    for nobody in (AnonymousCredentials(), Credentials(token="not-a-token-of-this-server")):
        init(transport, endpoint, nobody)
        with pytest.raises(REFUSED_401) as unauthenticated:
            aiplatform.CustomJob.get(job.resource_name)
        if isinstance(unauthenticated.value, exceptions.GoogleAPICallError):
            assert UNAUTHENTICATED in unauthenticated.value.message

    init(transport, endpoint, Credentials(token=ALICE))
    aiplatform.CustomJob.get(job.resource_name).delete()


if __name__ == "__main__":
    scenario(sys.argv[1], sys.argv[2])
    print(f"sdk auth over {sys.argv[1]}: ok")
