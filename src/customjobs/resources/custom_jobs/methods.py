"""JobService's CustomJob methods at the level of protobuf messages, for REST and gRPC alike."""

from __future__ import annotations

import dataclasses
from typing import Any

from google.longrunning import operations_pb2
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.message import Message

from customjobs import names
from customjobs.domain.job import Job
from customjobs.domain.placement import QueueStatus
from customjobs.resources.base import ResourceMethods
from customjobs.resources.custom_jobs import codec
from customjobs.security.principal import caller
from customjobs.wire import paging
from customjobs.wire.filters import parse_filter
from customjobs.wire.limits import check_list_request
from customjobs.wire.operations import operation_message


class CustomJobMethods(ResourceMethods):
    def create_custom_job(self, version: str, parent: str, custom_job: Message) -> Message:
        return codec.job_message(self._create(parent, custom_job), version)

    def create_custom_job_json(self, version: str, parent: str, custom_job: Message) -> dict[str, Any]:
        """create_custom_job in proto3 JSON, for REST (codec.job_dict)."""
        return codec.job_dict(self._create(parent, custom_job), version)

    def _create(self, parent: str, custom_job: Message) -> Job:
        """The created job, with its readable spec (what the answer shows)."""
        where = names.parse_parent(parent)
        self._require("CreateCustomJob", where)
        new = codec.decode_new_job(custom_job, where.project, where.location)
        self.inputs.check(new, caller())
        sealed = self.rt.encryption.seal_new(new)
        if sealed is not new:  # create's own checks see only the sealed spec: run them on the plain one
            self.rt.jobs.check(new)
        created = self.rt.jobs.create(sealed)
        return dataclasses.replace(created, spec_json=new.spec_json)

    def get_custom_job(self, version: str, name: str) -> Message:
        return codec.job_message(self._readable_job(name), version)

    def get_custom_job_json(self, version: str, name: str) -> dict[str, Any]:
        """get_custom_job in proto3 JSON, for REST: rendered once per version of the job."""
        return codec.job_dict(self._readable_job(name), version)

    def _readable_job(self, name: str) -> Job:
        parent, job_id = names.parse_job_name(name)
        self._require("GetCustomJob", parent)
        return self.rt.encryption.specs.opened(self.rt.jobs.get(parent, job_id))

    def queue_status(self, job_names: list[str]) -> dict[str, QueueStatus]:
        """Why each of these QUEUED jobs waits, and its position: for REST answers only (no proto
        field holds it). Callers have already passed the get or list permission check."""
        jobs = []
        for name in job_names:
            parent, job_id = names.parse_job_name(name)
            jobs.append(self.rt.jobs.get(parent, job_id))
        statuses = self.rt.jobs.queue_status(jobs)
        return {names.job_name(j.project, j.location, j.id): statuses[j.id] for j in jobs if j.id in statuses}

    def list_custom_jobs(
        self,
        version: str,
        parent: str,
        filter_text: str,
        page_size: int,
        page_token: str,
        read_mask: FieldMask | None,
    ) -> Message:
        readable, next_token, mask = self._list(
            version, parent, filter_text, page_size, page_token, read_mask
        )
        return codec.list_response(readable, version, next_token, mask)

    def list_custom_jobs_json(
        self,
        version: str,
        parent: str,
        filter_text: str,
        page_size: int,
        page_token: str,
        read_mask: FieldMask | None,
    ) -> dict[str, Any]:
        """list_custom_jobs in proto3 JSON, for REST: unmasked pages from the answers' cache."""
        readable, next_token, mask = self._list(
            version, parent, filter_text, page_size, page_token, read_mask
        )
        if mask is None:
            return codec.list_dict(readable, version, next_token)
        return codec.to_dict(codec.list_response(readable, version, next_token, mask))

    def _list(
        self,
        version: str,
        parent: str,
        filter_text: str,
        page_size: int,
        page_token: str,
        read_mask: FieldMask | None,
    ) -> tuple[list[Job], str, FieldMask | None]:
        where = names.parse_parent(parent)
        self._require("ListCustomJobs", where)
        check_list_request(filter_text, page_token)
        mask = codec.checked_read_mask(read_mask, version)
        expr = parse_filter(filter_text)
        bound_to = paging.binding(parent, filter_text)
        after = paging.decode(page_token, bound_to) if page_token else None
        jobs, cursor = self.rt.jobs.list(where, expr, self._page_size(page_size), after)
        next_token = paging.encode(cursor, bound_to) if cursor else ""
        readable = [self.rt.encryption.specs.opened_or_redacted(job) for job in jobs]
        return readable, next_token, mask

    def cancel_custom_job(self, name: str) -> None:
        parent, job_id = names.parse_job_name(name)
        self._require("CancelCustomJob", parent)
        self.rt.jobs.cancel(parent, job_id)

    def delete_custom_job(self, version: str, name: str) -> operations_pb2.Operation:
        parent, job_id = names.parse_job_name(name)
        self._require("DeleteCustomJob", parent)
        return operation_message(self.rt.jobs.delete(parent, job_id, version))
