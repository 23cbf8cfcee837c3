"""Capacity: a job's priority, why it waits in the queue, and what it was granted.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: SQLite and PostgreSQL both do them in place, without copying the table.
    op.add_column("custom_jobs", sa.Column("priority", sa.Integer, nullable=False, server_default="0"))
    op.add_column("custom_jobs", sa.Column("queue_reason", sa.Text))
    op.add_column("custom_jobs", sa.Column("allocation_json", sa.Text))
    op.create_index("ix_custom_jobs_queue", "custom_jobs", ["state", "priority", "create_us", "id"])


def downgrade() -> None:
    op.drop_index("ix_custom_jobs_queue", "custom_jobs")
    with op.batch_alter_table("custom_jobs") as batch:
        batch.drop_column("allocation_json")
        batch.drop_column("queue_reason")
        batch.drop_column("priority")
