"""THE table: every API method and the permission it needs, named as Google names it.

REST and gRPC handlers, our log endpoints, the Storage API and web-access shells all look
their permission up here; the roles of policy.py are sets of these names. A method's
resource is always a project (and location): one project's roles say nothing about
another's jobs, which is how a caller cannot even learn that they exist.
"""

from __future__ import annotations

# google.cloud.aiplatform.v1.JobService and google.longrunning.Operations, by gRPC method name.
CUSTOM_JOBS_CREATE = "aiplatform.customJobs.create"
CUSTOM_JOBS_GET = "aiplatform.customJobs.get"
CUSTOM_JOBS_LIST = "aiplatform.customJobs.list"
CUSTOM_JOBS_CANCEL = "aiplatform.customJobs.cancel"
CUSTOM_JOBS_DELETE = "aiplatform.customJobs.delete"
TUNING_JOBS_CREATE = "aiplatform.hyperparameterTuningJobs.create"
TUNING_JOBS_GET = "aiplatform.hyperparameterTuningJobs.get"
TUNING_JOBS_LIST = "aiplatform.hyperparameterTuningJobs.list"
TUNING_JOBS_CANCEL = "aiplatform.hyperparameterTuningJobs.cancel"
TUNING_JOBS_DELETE = "aiplatform.hyperparameterTuningJobs.delete"
PIPELINES_CREATE = "aiplatform.trainingPipelines.create"
PIPELINES_GET = "aiplatform.trainingPipelines.get"
PIPELINES_LIST = "aiplatform.trainingPipelines.list"
PIPELINES_CANCEL = "aiplatform.trainingPipelines.cancel"
PIPELINES_DELETE = "aiplatform.trainingPipelines.delete"
MODELS_UPLOAD = "aiplatform.models.upload"
MODELS_GET = "aiplatform.models.get"
MODELS_LIST = "aiplatform.models.list"
MODELS_DELETE = "aiplatform.models.delete"
OPERATIONS_GET = "aiplatform.operations.get"
OPERATIONS_LIST = "aiplatform.operations.list"
OPERATIONS_CANCEL = "aiplatform.operations.cancel"
OPERATIONS_DELETE = "aiplatform.operations.delete"
LOG_ENTRIES_LIST = "logging.logEntries.list"
# Vertex asks for the create/get/cancel trio before it opens an interactive shell; create is the strongest.
SHELL_OPEN = CUSTOM_JOBS_CREATE
BUCKETS_LIST = "storage.buckets.list"
BUCKETS_CREATE = "storage.buckets.create"
BUCKETS_GET = "storage.buckets.get"
BUCKETS_DELETE = "storage.buckets.delete"
OBJECTS_LIST = "storage.objects.list"
OBJECTS_GET = "storage.objects.get"
OBJECTS_CREATE = "storage.objects.create"
OBJECTS_DELETE = "storage.objects.delete"
KEYS_ENCRYPT = "cloudkms.cryptoKeyVersions.useToEncrypt"
KEYS_DECRYPT = "cloudkms.cryptoKeyVersions.useToDecrypt"

METHOD_PERMISSIONS: dict[str, str] = {
    "CreateCustomJob": CUSTOM_JOBS_CREATE,
    "GetCustomJob": CUSTOM_JOBS_GET,
    "ListCustomJobs": CUSTOM_JOBS_LIST,
    "CancelCustomJob": CUSTOM_JOBS_CANCEL,
    "DeleteCustomJob": CUSTOM_JOBS_DELETE,
    "CreateHyperparameterTuningJob": TUNING_JOBS_CREATE,
    "GetHyperparameterTuningJob": TUNING_JOBS_GET,
    "ListHyperparameterTuningJobs": TUNING_JOBS_LIST,
    "CancelHyperparameterTuningJob": TUNING_JOBS_CANCEL,
    "DeleteHyperparameterTuningJob": TUNING_JOBS_DELETE,
    "CreateTrainingPipeline": PIPELINES_CREATE,
    "GetTrainingPipeline": PIPELINES_GET,
    "ListTrainingPipelines": PIPELINES_LIST,
    "CancelTrainingPipeline": PIPELINES_CANCEL,
    "DeleteTrainingPipeline": PIPELINES_DELETE,
    "UploadModel": MODELS_UPLOAD,
    "GetModel": MODELS_GET,
    "ListModels": MODELS_LIST,
    "ListModelVersions": MODELS_LIST,
    "DeleteModel": MODELS_DELETE,
    "DeleteModelVersion": MODELS_DELETE,
    "GetOperation": OPERATIONS_GET,
    "WaitOperation": OPERATIONS_GET,
    "ListOperations": OPERATIONS_LIST,
    "CancelOperation": OPERATIONS_CANCEL,
    "DeleteOperation": OPERATIONS_DELETE,
    # GET /customjobs/v1/{job}/logs and Cloud Logging's POST /v2/entries:list.
    "ReadCustomJobLogs": LOG_ENTRIES_LIST,
    "ListLogEntries": LOG_ENTRIES_LIST,
    # /customjobs/shell/{job}/... (the console's web-access shells).
    "OpenShell": SHELL_OPEN,
    # The Cloud Storage JSON API subset (api/rest/storage*.py).
    "storage.buckets.list": BUCKETS_LIST,
    "storage.buckets.insert": BUCKETS_CREATE,
    "storage.buckets.get": BUCKETS_GET,
    "storage.buckets.delete": BUCKETS_DELETE,
    "storage.objects.list": OBJECTS_LIST,
    "storage.objects.get": OBJECTS_GET,
    "storage.objects.insert": OBJECTS_CREATE,
    "storage.objects.delete": OBJECTS_DELETE,
    # encryptionSpec.kmsKeyName at create: the caller must be allowed to use the key.
    "UseCryptoKey": KEYS_ENCRYPT,
}

VIEWER_PERMISSIONS = frozenset(
    {
        CUSTOM_JOBS_GET,
        CUSTOM_JOBS_LIST,
        TUNING_JOBS_GET,
        TUNING_JOBS_LIST,
        PIPELINES_GET,
        PIPELINES_LIST,
        MODELS_GET,
        MODELS_LIST,
        OPERATIONS_GET,
        OPERATIONS_LIST,
        LOG_ENTRIES_LIST,
        BUCKETS_GET,
        BUCKETS_LIST,
        OBJECTS_GET,
        OBJECTS_LIST,
    }
)
USER_PERMISSIONS = VIEWER_PERMISSIONS | {
    CUSTOM_JOBS_CREATE,
    CUSTOM_JOBS_CANCEL,
    CUSTOM_JOBS_DELETE,
    TUNING_JOBS_CREATE,
    TUNING_JOBS_CANCEL,
    TUNING_JOBS_DELETE,
    PIPELINES_CREATE,
    PIPELINES_CANCEL,
    PIPELINES_DELETE,
    MODELS_UPLOAD,
    MODELS_DELETE,
    OPERATIONS_CANCEL,
    OPERATIONS_DELETE,
    BUCKETS_CREATE,
    OBJECTS_CREATE,
    OBJECTS_DELETE,
    KEYS_ENCRYPT,
    KEYS_DECRYPT,
}
# admin holds every permission, those above and any added later.
ALL = "*"


def permission_of(method: str) -> str:
    """The permission of a method in the table; KeyError for a method nobody mapped (a bug)."""
    return METHOD_PERMISSIONS[method]


def aiplatform_resource(project: str, location: str) -> str:
    return f"//aiplatform.googleapis.com/projects/{project}/locations/{location}"


def logging_resource(project: str) -> str:
    return f"//logging.googleapis.com/projects/{project}"


def bucket_resource(bucket: str) -> str:
    return f"//storage.googleapis.com/projects/_/buckets/{bucket}"


def key_resource(key_name: str) -> str:
    return f"//cloudkms.googleapis.com/{key_name}"
