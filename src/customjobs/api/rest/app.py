"""The Starlette application: Vertex's REST routes, our log routes, health and metrics, and
the lifespan that starts and stops the scheduler."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from customjobs.api.rest.auth import STORAGE_PREFIXES, Authenticate
from customjobs.api.rest.cloud_logging import CloudLoggingHandlers
from customjobs.api.rest.common import error_response, guarded
from customjobs.api.rest.events import EventHandlers
from customjobs.api.rest.health import HealthHandlers, healthz
from customjobs.api.rest.job_resources import JobResource, JobResourceHandlers
from customjobs.api.rest.jobs import JobHandlers
from customjobs.api.rest.limits import BodyLimit
from customjobs.api.rest.logs import LogHandlers
from customjobs.api.rest.metrics import MetricsHandler, RequestMetrics
from customjobs.api.rest.models import ModelHandlers
from customjobs.api.rest.operations import OperationHandlers
from customjobs.api.rest.scopes import ScopeHandlers
from customjobs.api.rest.storage import storage_routes
from customjobs.api.rest.storage_common import ObjectNotFoundPath, storage_error_response
from customjobs.api.rest.unserved import unserved_routes
from customjobs.api.rest.webaccess import webaccess_routes
from customjobs.api.vertex import VertexApi
from customjobs.console.routes import console_routes
from customjobs.errors import NotFound
from customjobs.resources.pipelines import codec as pipelines_codec
from customjobs.resources.tuning import codec as tuning_codec
from customjobs.runtime import Runtime


class ResourceId(Convertor[str]):
    """A path segment that stops at ':' so `customJobs/123:cancel` never captures `123:cancel`."""

    regex = "[^/:]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class ApiVersion(ResourceId):
    regex = "v1|v1beta1"


class OperationsPrefix(ResourceId):
    regex = "v1|v1beta1|ui"


register_url_convertor("rid", ResourceId())
register_url_convertor("ver", ApiVersion())
register_url_convertor("opver", OperationsPrefix())

LOCATION = "/projects/{project:rid}/locations/{location:rid}"
JOBS = "/{version:ver}" + LOCATION + "/customJobs"
JOB = JOBS + "/{job:rid}"
VERSIONED_LOCATION = "/{version:ver}" + LOCATION


def job_resources(api: VertexApi) -> list[JobResource]:
    """The job resources a controller runs, each with the same five REST methods."""
    return [
        JobResource(
            "hyperparameterTuningJobs",
            tuning_codec.parse_tuning_job,
            api.create_hyperparameter_tuning_job,
            api.get_hyperparameter_tuning_job,
            api.list_hyperparameter_tuning_jobs,
            api.cancel_hyperparameter_tuning_job,
            api.delete_hyperparameter_tuning_job,
        ),
        JobResource(
            "trainingPipelines",
            pipelines_codec.parse_pipeline,
            api.create_training_pipeline,
            api.get_training_pipeline,
            api.list_training_pipelines,
            api.cancel_training_pipeline,
            api.delete_training_pipeline,
        ),
    ]


def routes(rt: Runtime) -> list[BaseRoute]:
    api = VertexApi(rt)
    jobs, ops, logs = JobHandlers(api), OperationHandlers(api), LogHandlers(rt)
    cloud_logging = CloudLoggingHandlers(rt)
    table: list[BaseRoute] = [
        Route(JOBS, guarded(jobs.create), methods=["POST"]),
        Route(JOBS, guarded(jobs.list), methods=["GET"]),
        Route(JOB + ":cancel", guarded(jobs.cancel), methods=["POST"]),
        Route(JOB, guarded(jobs.get), methods=["GET"]),
        Route(JOB, guarded(jobs.delete), methods=["DELETE"]),
        *(
            r
            for resource in job_resources(api)
            for r in JobResourceHandlers(resource).routes(VERSIONED_LOCATION)
        ),
        *ModelHandlers(api).routes(VERSIONED_LOCATION),
        *unserved_routes(VERSIONED_LOCATION),
        Route(
            "/customjobs/v1" + LOCATION + "/customJobs/{job:rid}/logs", guarded(logs.logs), methods=["GET"]
        ),
        Route(
            "/customjobs/v1" + LOCATION + "/customJobs/{job:rid}/events",
            guarded(EventHandlers(rt).events),
            methods=["GET"],
        ),
        # The console's picker of projects and locations that hold jobs (api/rest/scopes.py).
        Route("/customjobs/v1/scopes", guarded(ScopeHandlers(rt).scopes), methods=["GET"]),
        Route("/v2/entries:list", guarded(cloud_logging.list_entries), methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", HealthHandlers(rt).readyz, methods=["GET"]),
        Route("/metrics", MetricsHandler(rt.metrics).metrics_page, methods=["GET"]),
        *storage_routes(rt.settings.buckets_dir, rt.access, rt.encryption.outputs),
        *webaccess_routes(rt),
        *console_routes(),
    ]
    for base in ("/{version:opver}" + LOCATION, "/{version:opver}" + LOCATION + "/customJobs/{job:rid}"):
        table += [
            Route(base + "/operations", guarded(ops.list), methods=["GET"]),
            Route(base + "/operations/{op:rid}:cancel", guarded(ops.cancel), methods=["POST"]),
            Route(base + "/operations/{op:rid}:wait", guarded(ops.wait), methods=["POST"]),
            Route(base + "/operations/{op:rid}", guarded(ops.get), methods=["GET"]),
            Route(base + "/operations/{op:rid}", guarded(ops.delete), methods=["DELETE"]),
        ]
    return table


async def _not_found(request: Request, _: Exception) -> Response:
    message = f"The requested URL {request.url.path} was not found on this server."
    if request.url.path.startswith(STORAGE_PREFIXES):  # Cloud Storage's clients read only its envelope
        return storage_error_response(ObjectNotFoundPath(message))
    return error_response(NotFound(message))


def create_app(rt: Runtime) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        rt.start()
        try:
            yield
        finally:
            rt.stop()

    return Starlette(
        routes=routes(rt),
        lifespan=lifespan,
        middleware=[
            Middleware(RequestMetrics, metrics=rt.metrics),
            # Every request runs as the principal its bearer token proves (api/rest/auth.py).
            Middleware(Authenticate, access=rt.access),
            Middleware(BodyLimit, max_bytes=rt.settings.security.max_request_bytes),
        ],
        exception_handlers={404: _not_found, 405: _not_found},
    )
