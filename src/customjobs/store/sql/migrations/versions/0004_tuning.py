"""Owned executions and HyperparameterTuningJobs.

An execution (a custom_jobs row) may be owned by another resource: a tuning job's trials
run as executions whose `owner` names the tuning job, so customJobs list leaves them out.
A tuning job keeps its trials (the official Trial messages, proto JSON) in its own row:
only the tuning controller writes them, with a compare-and-set on `revision`.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("custom_jobs", sa.Column("owner", sa.String(255)))
    op.create_table(
        "tuning_jobs",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("location", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(512), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("spec_json", sa.Text, nullable=False),
        sa.Column("trials_json", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("create_us", sa.BigInteger, nullable=False),
        sa.Column("update_us", sa.BigInteger, nullable=False),
        sa.Column("start_us", sa.BigInteger),
        sa.Column("end_us", sa.BigInteger),
        sa.Column("error_code", sa.Integer),
        sa.Column("error_message", sa.Text),
    )
    op.create_index(
        "ix_tuning_jobs_parent_created", "tuning_jobs", ["project", "location", "create_us", "id"]
    )
    op.create_index("ix_tuning_jobs_state", "tuning_jobs", ["state"])
    op.create_table(
        "tuning_job_labels",
        sa.Column(
            "job_id", sa.BigInteger, sa.ForeignKey("tuning_jobs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tuning_job_labels")
    op.drop_index("ix_tuning_jobs_state", "tuning_jobs")
    op.drop_index("ix_tuning_jobs_parent_created", "tuning_jobs")
    op.drop_table("tuning_jobs")
    with op.batch_alter_table("custom_jobs") as batch:
        batch.drop_column("owner")
