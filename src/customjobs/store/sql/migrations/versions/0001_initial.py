"""Initial schema: jobs, their labels, their state history, and operations.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "custom_jobs",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("location", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(512), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("spec_json", sa.Text, nullable=False),
        sa.Column("create_us", sa.BigInteger, nullable=False),
        sa.Column("update_us", sa.BigInteger, nullable=False),
        sa.Column("start_us", sa.BigInteger),
        sa.Column("end_us", sa.BigInteger),
        sa.Column("error_code", sa.Integer),
        sa.Column("error_message", sa.Text),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("handle_json", sa.Text),
        sa.Column("outcome_state", sa.String(32)),
        sa.Column("outcome_code", sa.Integer),
        sa.Column("outcome_message", sa.Text),
        sa.Column("stop_requested_us", sa.BigInteger),
        sa.Column("web_access_json", sa.Text),
    )
    op.create_index(
        "ix_custom_jobs_parent_created", "custom_jobs", ["project", "location", "create_us", "id"]
    )
    op.create_index(
        "ix_custom_jobs_parent_state_created",
        "custom_jobs",
        ["project", "location", "state", "create_us", "id"],
    )
    op.create_index(
        "ix_custom_jobs_parent_display_name", "custom_jobs", ["project", "location", "display_name"]
    )
    op.create_index("ix_custom_jobs_state", "custom_jobs", ["state"])

    op.create_table(
        "job_labels",
        sa.Column(
            "job_id", sa.BigInteger, sa.ForeignKey("custom_jobs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
    )
    op.create_index("ix_job_labels_key_value", "job_labels", ["key", "value", "job_id"])

    op.create_table(
        "job_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "job_id", sa.BigInteger, sa.ForeignKey("custom_jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("time_us", sa.BigInteger, nullable=False),
        sa.Column("message", sa.Text),
    )
    op.create_index("ix_job_events_job", "job_events", ["job_id", "seq"])

    op.create_table(
        "operations",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("location", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("api_version", sa.String(16), nullable=False),
        sa.Column("job_id", sa.BigInteger),
        sa.Column("done", sa.Boolean, nullable=False),
        sa.Column("error_code", sa.Integer),
        sa.Column("error_message", sa.Text),
        sa.Column("create_us", sa.BigInteger, nullable=False),
        sa.Column("update_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_operations_parent_created", "operations", ["project", "location", "create_us", "id"])


def downgrade() -> None:
    op.drop_table("operations")
    op.drop_table("job_events")
    op.drop_table("job_labels")
    op.drop_table("custom_jobs")
