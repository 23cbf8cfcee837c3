"""`CustomJob.from_local_script` as a user runs it, in a process of its own.

    python -m e2e.local_script_scenarios SERVER_URL SCRIPT CONTAINER_URI

The SDK reads STORAGE_EMULATOR_HOST (set by the caller) when it uploads the packaged
script, and aiplatform.init's settings are process-wide: a child process keeps both out
of the pytest process. Prints the job's resource name and final state.
"""

from __future__ import annotations

import sys

from google.auth.credentials import AnonymousCredentials
from google.cloud import aiplatform

PROJECT = "sdk-project"
LOCATION = "us-central1"
STAGING_BUCKET = "gs://staging"
JOB_WAIT_TIME_S = 0.2


def main(argv: list[str]) -> None:
    server_url, script, container_uri = argv
    aiplatform.jobs._JOB_WAIT_TIME = JOB_WAIT_TIME_S
    aiplatform.init(
        project=PROJECT,
        location=LOCATION,
        api_endpoint=server_url,
        api_transport="rest",
        credentials=AnonymousCredentials(),
    )
    job = aiplatform.CustomJob.from_local_script(
        display_name="from-local-script",
        script_path=script,
        container_uri=container_uri,
        requirements=[],
        args=["--greeting", "hello"],
        staging_bucket=STAGING_BUCKET,
    )
    job.run(sync=True)
    print(f"result-job {job.resource_name}")
    print(f"result-state {job.state.name}")


if __name__ == "__main__":
    main(sys.argv[1:])
