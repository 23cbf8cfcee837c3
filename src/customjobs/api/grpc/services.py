"""The gRPC method tables: each method turns its request message into VertexApi's arguments.

No logic lives here: VertexApi is the API, for REST and gRPC alike. Methods not listed
(the rest of JobService) get gRPC's own UNIMPLEMENTED. Request classes are the raw
protobuf classes behind the official proto-plus types, loaded per API version on the
first call, so a server nobody calls over v1beta1 never imports it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import grpc
from google.longrunning import operations_pb2
from google.protobuf.empty_pb2 import Empty
from google.protobuf.message import Message

from customjobs.api.grpc.errors import guarded
from customjobs.api.vertex import VertexApi
from customjobs.wire.messages import VERSIONS, types_module

OPERATIONS_SERVICE = "google.longrunning.Operations"


def job_service_name(version: str) -> str:
    return f"google.cloud.aiplatform.{version}.JobService"


@functools.cache
def _request_class(version: str, name: str) -> type[Message]:
    module = types_module(version)
    cls: type[Message] = getattr(module, name).pb()
    return cls


def _parse_vertex(version: str, name: str, data: bytes) -> Message:
    return _request_class(version, name).FromString(data)


def _serialize(message: Message) -> bytes:
    data: bytes = message.SerializeToString()
    return data


def _unary(service: str, method: str, fn: Callable[[Any], Message], parse: Callable[[bytes], Message]) -> Any:
    return grpc.unary_unary_rpc_method_handler(
        guarded(f"/{service}/{method}", fn), request_deserializer=parse, response_serializer=_serialize
    )


def job_service(api: VertexApi, version: str) -> Any:
    """google.cloud.aiplatform.<version>.JobService: the CustomJob methods."""

    def create(req: Any) -> Message:
        return api.create_custom_job(version, req.parent, req.custom_job)

    def get(req: Any) -> Message:
        return api.get_custom_job(version, req.name)

    def list_(req: Any) -> Message:
        return api.list_custom_jobs(
            version, req.parent, req.filter, req.page_size, req.page_token, req.read_mask
        )

    def cancel(req: Any) -> Message:
        api.cancel_custom_job(req.name)
        return Empty()

    def delete(req: Any) -> Message:
        return api.delete_custom_job(version, req.name)

    table: dict[str, Callable[[Any], Message]] = {
        "CreateCustomJob": create,
        "GetCustomJob": get,
        "ListCustomJobs": list_,
        "CancelCustomJob": cancel,
        "DeleteCustomJob": delete,
    }
    return _vertex_service(job_service_name(version), version, table)


def tuning_job_service(api: VertexApi, version: str) -> Any:
    """JobService's HyperparameterTuningJob methods: a second handler of the same service name
    (gRPC asks each generic handler in turn; this one answers only its own methods)."""

    def create(req: Any) -> Message:
        return api.create_hyperparameter_tuning_job(version, req.parent, req.hyperparameter_tuning_job)

    def get(req: Any) -> Message:
        return api.get_hyperparameter_tuning_job(version, req.name)

    def list_(req: Any) -> Message:
        return api.list_hyperparameter_tuning_jobs(
            version, req.parent, req.filter, req.page_size, req.page_token
        )

    def cancel(req: Any) -> Message:
        api.cancel_hyperparameter_tuning_job(req.name)
        return Empty()

    def delete(req: Any) -> Message:
        return api.delete_hyperparameter_tuning_job(version, req.name)

    table: dict[str, Callable[[Any], Message]] = {
        "CreateHyperparameterTuningJob": create,
        "GetHyperparameterTuningJob": get,
        "ListHyperparameterTuningJobs": list_,
        "CancelHyperparameterTuningJob": cancel,
        "DeleteHyperparameterTuningJob": delete,
    }
    return _vertex_service(job_service_name(version), version, table)


def pipeline_service(api: VertexApi, version: str) -> Any:
    """google.cloud.aiplatform.<version>.PipelineService: the TrainingPipeline methods."""

    def create(req: Any) -> Message:
        return api.create_training_pipeline(version, req.parent, req.training_pipeline)

    def get(req: Any) -> Message:
        return api.get_training_pipeline(version, req.name)

    def list_(req: Any) -> Message:
        return api.list_training_pipelines(version, req.parent, req.filter, req.page_size, req.page_token)

    def cancel(req: Any) -> Message:
        api.cancel_training_pipeline(req.name)
        return Empty()

    def delete(req: Any) -> Message:
        return api.delete_training_pipeline(version, req.name)

    table: dict[str, Callable[[Any], Message]] = {
        "CreateTrainingPipeline": create,
        "GetTrainingPipeline": get,
        "ListTrainingPipelines": list_,
        "CancelTrainingPipeline": cancel,
        "DeleteTrainingPipeline": delete,
    }
    return _vertex_service(f"google.cloud.aiplatform.{version}.PipelineService", version, table)


def model_service(api: VertexApi, version: str) -> Any:
    """google.cloud.aiplatform.<version>.ModelService: the registry (no deployment here)."""

    def list_versions(req: Any) -> Message:
        return api.list_model_versions(version, req.name, req.filter, req.page_size, req.page_token)

    table: dict[str, Callable[[Any], Message]] = {
        "UploadModel": lambda req: api.upload_model(version, req.parent, req),
        "GetModel": lambda req: api.get_model(version, req.name),
        "ListModels": lambda req: api.list_models(
            version, req.parent, req.filter, req.page_size, req.page_token
        ),
        "ListModelVersions": list_versions,
        "DeleteModel": lambda req: api.delete_model(version, req.name),
        "DeleteModelVersion": lambda req: api.delete_model_version(version, req.name),
    }
    return _vertex_service(f"google.cloud.aiplatform.{version}.ModelService", version, table)


def _vertex_service(service: str, version: str, table: dict[str, Callable[[Any], Message]]) -> Any:
    return grpc.method_handlers_generic_handler(
        service,
        {
            method: _unary(service, method, fn, functools.partial(_parse_vertex, version, f"{method}Request"))
            for method, fn in table.items()
        },
    )


def operations_service(api: VertexApi) -> Any:
    """google.longrunning.Operations, shared by both API versions."""

    def get(req: operations_pb2.GetOperationRequest) -> Message:
        return api.get_operation(req.name)

    def list_(req: operations_pb2.ListOperationsRequest) -> Message:
        return api.list_operations(req.name, req.filter, req.page_size, req.page_token)

    def cancel(req: operations_pb2.CancelOperationRequest) -> Message:
        api.cancel_operation(req.name)
        return Empty()

    def delete(req: operations_pb2.DeleteOperationRequest) -> Message:
        api.delete_operation(req.name)
        return Empty()

    def wait(req: operations_pb2.WaitOperationRequest) -> Message:
        return api.wait_operation(req.name)

    table: dict[str, tuple[Callable[[Any], Message], Callable[[bytes], Message]]] = {
        "GetOperation": (get, operations_pb2.GetOperationRequest.FromString),
        "ListOperations": (list_, operations_pb2.ListOperationsRequest.FromString),
        "CancelOperation": (cancel, operations_pb2.CancelOperationRequest.FromString),
        "DeleteOperation": (delete, operations_pb2.DeleteOperationRequest.FromString),
        "WaitOperation": (wait, operations_pb2.WaitOperationRequest.FromString),
    }
    return grpc.method_handlers_generic_handler(
        OPERATIONS_SERVICE,
        {method: _unary(OPERATIONS_SERVICE, method, fn, parse) for method, (fn, parse) in table.items()},
    )


def all_services(api: VertexApi) -> tuple[Any, ...]:
    """Every generic handler the server registers: per API version JobService's (CustomJobs,
    then tuning jobs), PipelineService and ModelService; and Operations."""
    return (
        *(job_service(api, version) for version in VERSIONS),
        *(tuning_job_service(api, version) for version in VERSIONS),
        *(pipeline_service(api, version) for version in VERSIONS),
        *(model_service(api, version) for version in VERSIONS),
        operations_service(api),
    )
