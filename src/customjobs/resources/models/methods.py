"""ModelService's methods at the level of protobuf messages, for REST and gRPC alike."""

from __future__ import annotations

from google.longrunning import operations_pb2
from google.protobuf.message import Message

from customjobs import names
from customjobs.resources.base import ResourceMethods
from customjobs.resources.models import codec
from customjobs.resources.models.names import parse_model_name
from customjobs.wire import paging
from customjobs.wire.filters import parse_filter
from customjobs.wire.limits import check_list_request
from customjobs.wire.operations import operation_message


class ModelMethods(ResourceMethods):
    def upload_model(self, version: str, parent: str, request: Message) -> operations_pb2.Operation:
        where = names.parse_parent(parent)
        self._require("UploadModel", where)
        _, operation = self.rt.models.upload(codec.decode_upload(request, where), version)
        return operation_message(operation)

    def get_model(self, version: str, name: str) -> Message:
        ref = parse_model_name(name)
        self._require("GetModel", ref.parent)
        return codec.model_message(self.rt.models.get(ref), version)

    def list_models(
        self, version: str, parent: str, filter_text: str, page_size: int, page_token: str
    ) -> Message:
        where = names.parse_parent(parent)
        self._require("ListModels", where)
        check_list_request(filter_text, page_token)
        expr = parse_filter(filter_text)
        bound_to = paging.binding(parent + "/models", filter_text)
        after = paging.decode(page_token, bound_to) if page_token else None
        models, cursor = self.rt.models.list_models(where, expr, self._page_size(page_size), after)
        next_token = paging.encode(cursor, bound_to) if cursor else ""
        return codec.list_response("ListModelsResponse", models, version, next_token)

    def list_model_versions(
        self, version: str, name: str, filter_text: str, page_size: int, page_token: str
    ) -> Message:
        ref = parse_model_name(name, versioned=False)
        self._require("ListModelVersions", ref.parent)
        check_list_request(filter_text, page_token)
        expr = parse_filter(filter_text)
        bound_to = paging.binding(name + ":listVersions", filter_text)
        after = paging.decode(page_token, bound_to) if page_token else None
        models, cursor = self.rt.models.list_versions(ref, expr, self._page_size(page_size), after)
        next_token = paging.encode(cursor, bound_to) if cursor else ""
        return codec.list_response("ListModelVersionsResponse", models, version, next_token)

    def delete_model(self, version: str, name: str) -> operations_pb2.Operation:
        ref = parse_model_name(name, versioned=False)
        self._require("DeleteModel", ref.parent)
        return operation_message(self.rt.models.delete(ref, version))

    def delete_model_version(self, version: str, name: str) -> operations_pb2.Operation:
        ref = parse_model_name(name)
        self._require("DeleteModelVersion", ref.parent)
        return operation_message(self.rt.models.delete_version(ref, version))
