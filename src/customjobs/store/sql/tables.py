"""The schema, as SQLAlchemy Core tables. Alembic migrations create exactly this.

Times are integer microseconds since the epoch: exact, ordered, and the same on SQLite
and PostgreSQL. Every index serves a query that list or the scheduler runs.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

# A QUEUED job that holds an allocation was admitted and waits for the backend to place it
# (execution/scheduler/loop.py); the partial index keeps the long plain queue out of that read.
PLACING_WHERE = text("state = 'JOB_STATE_QUEUED' AND allocation_json IS NOT NULL")

custom_jobs = Table(
    "custom_jobs",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("project", String(128), nullable=False),
    Column("location", String(64), nullable=False),
    Column("display_name", String(512), nullable=False),
    Column("state", String(32), nullable=False),
    Column("spec_json", Text, nullable=False),
    Column("create_us", BigInteger, nullable=False),
    Column("update_us", BigInteger, nullable=False),
    Column("start_us", BigInteger),
    Column("end_us", BigInteger),
    Column("error_code", Integer),
    Column("error_message", Text),
    Column("attempt", Integer, nullable=False, default=0),
    Column("handle_json", Text),
    Column("outcome_state", String(32)),
    Column("outcome_code", Integer),
    Column("outcome_message", Text),
    Column("stop_requested_us", BigInteger),
    Column("web_access_json", Text),
    # The `customjobs-priority` label as a number, so the queue's order is one indexed query.
    Column("priority", Integer, nullable=False, default=0, server_default="0"),
    # Why a queued job waits (execution/scheduler/admission.py); its position is computed when read.
    Column("queue_reason", Text),
    # What the scheduler granted at admission (domain/placement.py), held until the job ends.
    Column("allocation_json", Text),
    # The resource that runs this execution as its child (a tuning job's trial), or NULL for a
    # CustomJob of its own: customJobs list shows only those.
    Column("owner", String(255)),
    # Keyset pagination, newest first, per parent: one index range scan per page.
    Index("ix_custom_jobs_parent_created", "project", "location", "create_us", "id"),
    Index("ix_custom_jobs_parent_state_created", "project", "location", "state", "create_us", "id"),
    Index("ix_custom_jobs_parent_display_name", "project", "location", "display_name"),
    # The scheduler's scan of active jobs.
    Index("ix_custom_jobs_state", "state"),
    # The queue's order: queued jobs by priority, then first come first served.
    Index("ix_custom_jobs_queue", "state", "priority", "create_us", "id"),
    # Admitted jobs waiting for the backend to place them (a Ray gang): few, read every pass
    # in this order (store.placing_query). The leading state column is what makes SQLite's
    # planner take it over ix_custom_jobs_state, with or without ANALYZE's statistics.
    Index(
        "ix_custom_jobs_placing",
        "state",
        "create_us",
        "id",
        sqlite_where=PLACING_WHERE,
        postgresql_where=PLACING_WHERE,
    ),
)

job_labels = Table(
    "job_labels",
    metadata,
    Column("job_id", BigInteger, ForeignKey("custom_jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", String(128), nullable=False),
    Index("ix_job_labels_key_value", "key", "value", "job_id"),
)

job_events = Table(
    "job_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("job_id", BigInteger, ForeignKey("custom_jobs.id", ondelete="CASCADE"), nullable=False),
    Column("state", String(32), nullable=False),
    Column("time_us", BigInteger, nullable=False),
    Column("message", Text),
    Index("ix_job_events_job", "job_id", "seq"),
)

operations = Table(
    "operations",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("project", String(128), nullable=False),
    Column("location", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("api_version", String(16), nullable=False),
    Column("job_id", BigInteger),
    Column("done", Boolean, nullable=False),
    Column("error_code", Integer),
    Column("error_message", Text),
    Column("create_us", BigInteger, nullable=False),
    Column("update_us", BigInteger, nullable=False),
    # The operation's response as proto JSON (UploadModelResponse); None for deletes (Empty).
    Column("result_json", Text),
    Index("ix_operations_parent_created", "project", "location", "create_us", "id"),
)

# One row per lease (today only "scheduler"): who holds it and until when, in the database's
# clock. `epoch` grows by one each time the lease changes hands: a fencing token.
leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(255), nullable=False),
    Column("epoch", BigInteger, nullable=False),
    Column("acquired_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger, nullable=False),
)

# HyperparameterTuningJobs (resources/tuning): the job's input fields and its trials as proto
# JSON; `revision` is the compare-and-set token of the controller's writes.
tuning_jobs = Table(
    "tuning_jobs",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("project", String(128), nullable=False),
    Column("location", String(64), nullable=False),
    Column("display_name", String(512), nullable=False),
    Column("state", String(32), nullable=False),
    Column("spec_json", Text, nullable=False),
    Column("trials_json", Text, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("create_us", BigInteger, nullable=False),
    Column("update_us", BigInteger, nullable=False),
    Column("start_us", BigInteger),
    Column("end_us", BigInteger),
    Column("error_code", Integer),
    Column("error_message", Text),
    Index("ix_tuning_jobs_parent_created", "project", "location", "create_us", "id"),
    Index("ix_tuning_jobs_state", "state"),
)

tuning_job_labels = Table(
    "tuning_job_labels",
    metadata,
    Column("job_id", BigInteger, ForeignKey("tuning_jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", String(128), nullable=False),
)

# TrainingPipelines (resources/pipelines): the input fields as proto JSON, the id of the
# backing CustomJob chosen before it is submitted, and the Model it uploaded.
training_pipelines = Table(
    "training_pipelines",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("project", String(128), nullable=False),
    Column("location", String(64), nullable=False),
    Column("display_name", String(512), nullable=False),
    Column("state", String(32), nullable=False),
    Column("spec_json", Text, nullable=False),
    Column("backing_job_id", BigInteger, nullable=False),
    # When the backing CustomJob was submitted; None while it is still to be.
    Column("submitted_us", BigInteger),
    Column("model_name", String(512)),
    Column("model_version", String(32)),
    Column("revision", Integer, nullable=False),
    Column("create_us", BigInteger, nullable=False),
    Column("update_us", BigInteger, nullable=False),
    Column("start_us", BigInteger),
    Column("end_us", BigInteger),
    Column("error_code", Integer),
    Column("error_message", Text),
    Index("ix_training_pipelines_parent_created", "project", "location", "create_us", "id"),
    Index("ix_training_pipelines_state", "state"),
)

training_pipeline_labels = Table(
    "training_pipeline_labels",
    metadata,
    Column("job_id", BigInteger, ForeignKey("training_pipelines.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", String(128), nullable=False),
)

# The Model registry (resources/models): one row per version, `id` a surrogate key for paging
# and labels. A pipeline uploads at most one version (`source_pipeline_id` is unique).
model_versions = Table(
    "model_versions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("project", String(128), nullable=False),
    Column("location", String(64), nullable=False),
    Column("model_id", String(128), nullable=False),
    Column("version_id", Integer, nullable=False),
    Column("display_name", String(512), nullable=False),
    Column("is_default", Boolean, nullable=False),
    Column("aliases_json", Text, nullable=False),
    Column("spec_json", Text, nullable=False),
    Column("source_pipeline_id", BigInteger),
    Column("create_us", BigInteger, nullable=False),
    Column("update_us", BigInteger, nullable=False),
    UniqueConstraint("project", "location", "model_id", "version_id", name="uq_model_versions_version"),
    UniqueConstraint("source_pipeline_id", name="uq_model_versions_pipeline"),
    Index("ix_model_versions_parent_created", "project", "location", "create_us", "id"),
)

model_labels = Table(
    "model_labels",
    metadata,
    Column("job_id", BigInteger, ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", String(128), nullable=False),
)
