"""Every resource's methods in one object, which both transports call and nothing else.

REST turns JSON into protobuf messages and back, gRPC receives them as they are; each
resource package contributes its methods class (resources/*/methods.py).
"""

from __future__ import annotations

from customjobs.resources.custom_jobs.methods import CustomJobMethods
from customjobs.resources.operations.methods import OperationMethods


class VertexApi(CustomJobMethods, OperationMethods):
    """The API of this server: CustomJobs and their operations."""
