"""An encrypted job's data, as the API and the scheduler ask about it.

One object answers: seal a new job's spec (or refuse its key with Vertex's 400), open a
stored spec, pick the byte source for its logs, and seal its logs and outputs when it
ends. A job without `encryptionSpec` passes through every method untouched.
"""

from __future__ import annotations

import json
import logging

from customjobs.domain.job import Job, NewJob
from customjobs.domain.states import TERMINAL
from customjobs.errors import ApiError, InvalidArgument
from customjobs.execution.logs.files import PLAIN_FILES, ByteSource, LogLayout
from customjobs.kms.base import KeyState, KeyUnavailable, Kms
from customjobs.kms.logs import LogSealer, SealedLogSource
from customjobs.kms.outputs import SealedObjects
from customjobs.kms.specs import SpecSealer, sealed_key
from customjobs.storage.objects import LocalBuckets

log = logging.getLogger(__name__)


def unusable_key(key_name: str) -> InvalidArgument:
    """Vertex's 400 for a key that does not exist, is disabled, or the caller may not use."""
    return InvalidArgument(
        f"Provided CryptoKey {key_name} cannot be used in Vertex AI service. Please make sure the "
        "CryptoKey exists and is enabled, and that the caller has Encryption and Decryption access "
        "to the CryptoKey."
    )


def requested_key(spec_json: str) -> str | None:
    """encryptionSpec.kmsKeyName of a plaintext CustomJob JSON, if any."""
    try:
        value = json.loads(spec_json).get("encryptionSpec", {}).get("kmsKeyName")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value else None


def _output_uri(spec_json: str) -> str | None:
    try:
        value = json.loads(spec_json)["jobSpec"]["baseOutputDirectory"]["outputUriPrefix"]
    except (ValueError, KeyError, TypeError):
        return None
    return value if isinstance(value, str) else None


class JobEncryption:
    def __init__(self, kms: Kms, layout: LogLayout, buckets: LocalBuckets) -> None:
        self.kms = kms
        self.specs = SpecSealer(kms)
        self.logs = LogSealer(layout, kms)
        self.outputs = SealedObjects(buckets, kms)

    def seal_new(self, new: NewJob) -> NewJob:
        """The new job with its spec sealed if it asks for a key (already checked: the caller may use it)."""
        key_name = requested_key(new.spec_json)
        if key_name is None:
            return new
        if self.kms.state(key_name) is not KeyState.ENABLED:
            raise unusable_key(key_name)
        try:
            return self.specs.seal(new, key_name)
        except KeyUnavailable as exc:
            raise unusable_key(key_name) from exc

    def plain_spec(self, job: Job) -> str:
        return self.specs.plain_spec(job)

    def is_encrypted(self, job: Job) -> bool:
        return sealed_key(job.spec_json) is not None

    def log_source(self, job: Job) -> ByteSource:
        """Where the job's log bytes come from; FAILED_PRECONDITION naming the key if it is unusable."""
        key_name = sealed_key(job.spec_json)
        if key_name is None:
            return PLAIN_FILES
        spec = self.specs.plain_spec(job)  # the key check: a running job's plaintext logs are refused too
        if job.state in TERMINAL:  # seal what was left plaintext while the key was disabled at the end
            self.logs.seal_job(job.id, key_name)
            self._seal_outputs(spec, key_name)
        return SealedLogSource(self.kms)

    def on_job_ended(self, job: Job) -> None:
        """Seal the job's logs and outputs before its final state is stored (scheduler hook)."""
        key_name = sealed_key(job.spec_json)
        if key_name is None:
            return
        self.logs.seal_job(job.id, key_name)
        try:
            spec = self.specs.plain_spec(job)
        except ApiError as exc:  # the key is disabled: sealed when its logs are next read
            log.warning("job %s: outputs stay unsealed for now: %s", job.id, exc.message)
            return
        self._seal_outputs(spec, key_name)

    def _seal_outputs(self, spec_json: str, key_name: str) -> None:
        uri = _output_uri(spec_json)
        if uri:
            self.outputs.seal_output(uri, key_name)
