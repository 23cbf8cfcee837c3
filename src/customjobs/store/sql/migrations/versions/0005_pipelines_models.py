"""TrainingPipelines, the Model registry, and operations that carry a result.

A pipeline keeps the id of its backing CustomJob (chosen before the job is submitted, so a
restart submits it once) and, once its Model is uploaded, that model's name and version.
A Model is one row per version; `source_pipeline_id` is unique, so a pipeline that uploads
again after a restart finds its version instead of adding a second one. An operation's
`result_json` is its response (UploadModelResponse) as proto JSON.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("operations", sa.Column("result_json", sa.Text))
    op.create_table(
        "training_pipelines",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("location", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(512), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("spec_json", sa.Text, nullable=False),
        sa.Column("backing_job_id", sa.BigInteger, nullable=False),
        sa.Column("submitted_us", sa.BigInteger),
        sa.Column("model_name", sa.String(512)),
        sa.Column("model_version", sa.String(32)),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("create_us", sa.BigInteger, nullable=False),
        sa.Column("update_us", sa.BigInteger, nullable=False),
        sa.Column("start_us", sa.BigInteger),
        sa.Column("end_us", sa.BigInteger),
        sa.Column("error_code", sa.Integer),
        sa.Column("error_message", sa.Text),
    )
    op.create_index(
        "ix_training_pipelines_parent_created",
        "training_pipelines",
        ["project", "location", "create_us", "id"],
    )
    op.create_index("ix_training_pipelines_state", "training_pipelines", ["state"])
    op.create_table(
        "training_pipeline_labels",
        sa.Column(
            "job_id",
            sa.BigInteger,
            sa.ForeignKey("training_pipelines.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("location", sa.String(64), nullable=False),
        sa.Column("model_id", sa.String(128), nullable=False),
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("display_name", sa.String(512), nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        sa.Column("aliases_json", sa.Text, nullable=False),
        sa.Column("spec_json", sa.Text, nullable=False),
        sa.Column("source_pipeline_id", sa.BigInteger),
        sa.Column("create_us", sa.BigInteger, nullable=False),
        sa.Column("update_us", sa.BigInteger, nullable=False),
        sa.UniqueConstraint(
            "project", "location", "model_id", "version_id", name="uq_model_versions_version"
        ),
        sa.UniqueConstraint("source_pipeline_id", name="uq_model_versions_pipeline"),
    )
    op.create_index(
        "ix_model_versions_parent_created", "model_versions", ["project", "location", "create_us", "id"]
    )
    op.create_table(
        "model_labels",
        sa.Column(
            "job_id", sa.BigInteger, sa.ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("model_labels")
    op.drop_index("ix_model_versions_parent_created", "model_versions")
    op.drop_table("model_versions")
    op.drop_table("training_pipeline_labels")
    op.drop_index("ix_training_pipelines_state", "training_pipelines")
    op.drop_index("ix_training_pipelines_parent_created", "training_pipelines")
    op.drop_table("training_pipelines")
    with op.batch_alter_table("operations") as batch:
        batch.drop_column("result_json")
