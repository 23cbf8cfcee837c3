"""A job's stored spec (the spec_json column), sealed when the job names a key.

The column then holds `{"sealedSpec": {"kmsKeyName": K, "data": BASE64}}`: the key's
name stays readable (list shows which key a job needs; the scheduler knows what to ask
for), the CustomJob JSON does not. Its associated data binds it to the job's project
and location. Display name and labels live in their own columns, in plaintext, since
list filters on them; the README says so.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

from customjobs.domain.job import Job, NewJob
from customjobs.errors import FailedPrecondition
from customjobs.kms import envelope
from customjobs.kms.base import KeyUnavailable, Kms

SEALED_KEY = "sealedSpec"


def key_unavailable(key_name: str, what: str) -> FailedPrecondition:
    """FAILED_PRECONDITION naming the key, for data that needs it now."""
    return FailedPrecondition(
        f"The Cloud KMS key {key_name} is disabled or does not exist, so {what} cannot be decrypted. "
        f"Enable the key (customjobs keys enable {key_name}) to read it again."
    )


def sealed_key(spec_json: str) -> str | None:
    """The key a stored spec is sealed with; None for a plaintext spec."""
    if not spec_json.startswith('{"' + SEALED_KEY):
        return None
    try:
        value = json.loads(spec_json)[SEALED_KEY]["kmsKeyName"]
    except (ValueError, KeyError, TypeError):
        return None
    return value if isinstance(value, str) else None


def _context(project: str, location: str) -> bytes:
    return f"customjobs-spec:projects/{project}/locations/{location}".encode()


class SpecSealer:
    def __init__(self, kms: Kms) -> None:
        self.kms = kms

    def seal(self, new: NewJob, key_name: str) -> NewJob:
        """The new job with its spec sealed under the key; KeyUnavailable if it cannot be used."""
        data = envelope.seal_bytes(
            new.spec_json.encode(), self.kms, key_name, _context(new.project, new.location)
        )
        sealed = {SEALED_KEY: {"kmsKeyName": key_name, "data": base64.b64encode(data).decode()}}
        return dataclasses.replace(new, spec_json=json.dumps(sealed))

    def plain_spec(self, job: Job) -> str:
        """The job's CustomJob JSON; FAILED_PRECONDITION naming the key when it cannot be opened."""
        key_name = sealed_key(job.spec_json)
        if key_name is None:
            return job.spec_json
        try:
            blob = base64.b64decode(json.loads(job.spec_json)[SEALED_KEY]["data"])
            return envelope.open_bytes(blob, self.kms, _context(job.project, job.location)).decode()
        except KeyUnavailable as exc:
            raise key_unavailable(exc.key_name, "this CustomJob's data (its spec, logs and outputs)") from exc

    def opened(self, job: Job) -> Job:
        """The job with a readable spec, or FAILED_PRECONDITION naming its key."""
        spec = self.plain_spec(job)
        return job if spec is job.spec_json else dataclasses.replace(job, spec_json=spec)

    def opened_or_redacted(self, job: Job) -> Job:
        """For list: the job as opened(), or, when its key is unusable, only what is not sealed."""
        key_name = sealed_key(job.spec_json)
        if key_name is None:
            return job
        try:
            return self.opened(job)
        except FailedPrecondition:
            redacted: dict[str, Any] = {"encryptionSpec": {"kmsKeyName": key_name}}
            return dataclasses.replace(job, spec_json=json.dumps(redacted))
