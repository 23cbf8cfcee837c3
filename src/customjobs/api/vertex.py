"""Every resource's methods in one object, which both transports call and nothing else.

REST turns JSON into protobuf messages and back, gRPC receives them as they are; each
resource package contributes its methods class (resources/*/methods.py).
"""

from __future__ import annotations

from customjobs.resources.custom_jobs.methods import CustomJobMethods
from customjobs.resources.models.methods import ModelMethods
from customjobs.resources.operations.methods import OperationMethods
from customjobs.resources.pipelines.methods import PipelineMethods
from customjobs.resources.tuning.methods import TuningJobMethods


class VertexApi(CustomJobMethods, TuningJobMethods, PipelineMethods, ModelMethods, OperationMethods):
    """The API of this server: CustomJobs, HyperparameterTuningJobs, TrainingPipelines, Models
    and their operations."""
