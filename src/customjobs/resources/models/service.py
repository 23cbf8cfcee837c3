"""Model registry use cases (upload, get, list, list versions, delete), free of any transport.

Uploads and deletes are long-running operations on Vertex; here both are over when they
answer (the row and its operation are written in one transaction), so the operation a
client polls is already done.
"""

from __future__ import annotations

import logging

from customjobs import names
from customjobs.clock import now_us
from customjobs.domain.job import Operation
from customjobs.domain.model import ModelVersion, NewModelVersion
from customjobs.domain.query import Expr
from customjobs.errors import FailedPrecondition, NotFound
from customjobs.resources.models.codec import upload_result
from customjobs.resources.models.names import ModelRef, model_name
from customjobs.store.base import Cursor, page_of
from customjobs.store.sql.models import SqlModelStore
from customjobs.wire.operations import UPLOAD_MODEL

log = logging.getLogger(__name__)

DELETE_OPERATION = "delete_model"
DELETE_VERSION_OPERATION = "delete_model_version"


class ModelService:
    def __init__(self, store: SqlModelStore) -> None:
        self.store = store

    def upload(self, new: NewModelVersion, api_version: str) -> tuple[ModelVersion, Operation]:
        """UploadModel: the next version of a model (its first, unless `new` joins one)."""
        now = now_us()
        model_id = new.model_id or str(names.new_id())
        operation: list[Operation] = []

        def operation_for(version_id: int) -> Operation:
            # Its response names the version, which is numbered inside the store's transaction.
            result = upload_result(new.project, new.location, model_id, version_id)
            op = Operation.done_now(
                names.new_id(), UPLOAD_MODEL, new.project, new.location, api_version, None, now, result
            )
            operation.append(op)
            return op

        version = self.store.add_version(names.new_id(), model_id, new, operation_for, now)
        self._log_upload(version, new)
        return version, operation[0]

    def upload_for_pipeline(self, new: NewModelVersion) -> ModelVersion:
        """A pipeline's upload, with no operation: done once however often it is asked."""
        version = self.store.add_version(
            names.new_id(), new.model_id or str(names.new_id()), new, lambda _: None, now_us()
        )
        self._log_upload(version, new)
        return version

    def _log_upload(self, version: ModelVersion, new: NewModelVersion) -> None:
        log.info(
            "model %s: version %s uploaded%s",
            model_name(version.project, version.location, version.model_id),
            version.version_id,
            f" by pipeline {new.source_pipeline_id}" if new.source_pipeline_id else "",
        )

    def get(self, ref: ModelRef) -> ModelVersion:
        found = self.store.get(ref.parent.project, ref.parent.location, ref.model_id, ref.version)
        if found is None:
            at = f"@{ref.version}" if ref.version else ""
            raise NotFound(f'The Model "{ref.name}{at}" does not exist.')
        return found

    def list_models(
        self, parent: names.Parent, where: Expr | None, page_size: int, after: Cursor | None
    ) -> tuple[list[ModelVersion], Cursor | None]:
        rows = self.store.page_models(parent.project, parent.location, where, page_size + 1, after)
        return page_of(rows, page_size)

    def list_versions(
        self, ref: ModelRef, where: Expr | None, page_size: int, after: Cursor | None
    ) -> tuple[list[ModelVersion], Cursor | None]:
        self.get(ModelRef(ref.parent, ref.model_id, None))
        rows = self.store.page_versions(
            ref.parent.project, ref.parent.location, ref.model_id, where, page_size + 1, after
        )
        return page_of(rows, page_size)

    def delete(self, ref: ModelRef, api_version: str) -> Operation:
        """DeleteModel: the model and every version of it."""
        self.get(ModelRef(ref.parent, ref.model_id, None))
        operation = self._operation(DELETE_OPERATION, ref, api_version)
        if not self.store.delete(ref.parent.project, ref.parent.location, ref.model_id, None, operation):
            raise NotFound(f'The Model "{ref.name}" does not exist.')
        log.info("model %s: deleted (operation %s)", ref.name, operation.id)
        return operation

    def delete_version(self, ref: ModelRef, api_version: str) -> Operation:
        """DeleteModelVersion: one version, never the default one (Vertex's rule)."""
        if ref.version is None:
            raise FailedPrecondition(f'Name a version to delete: "{ref.name}@<version>".')
        version = self.get(ref)
        if version.is_default:
            raise FailedPrecondition(
                f'Version {version.version_id} of "{ref.name}" is its default version and cannot be deleted: '
                "make another version the default first, or delete the model."
            )
        operation = self._operation(DELETE_VERSION_OPERATION, ref, api_version)
        where = ref.parent
        if not self.store.delete(where.project, where.location, ref.model_id, version.version_id, operation):
            raise NotFound(f'The Model "{ref.name}@{ref.version}" does not exist.')
        log.info("model %s: version %s deleted", ref.name, version.version_id)
        return operation

    def _operation(self, kind: str, ref: ModelRef, api_version: str) -> Operation:
        now = now_us()
        return Operation.done_now(
            names.new_id(), kind, ref.parent.project, ref.parent.location, api_version, None, now
        )
