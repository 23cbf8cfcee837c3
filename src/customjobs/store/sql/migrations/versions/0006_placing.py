"""Admitted jobs waiting for their placement: a partial index over them.

A job the scheduler admitted but the backend could not place yet (a Ray gang whose placement
group waits) is QUEUED with its allocation kept; every scheduler pass reads those few rows,
so they get an index of their own that the long plain queue stays out of.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_WHERE = sa.text("state = 'JOB_STATE_QUEUED' AND allocation_json IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_custom_jobs_placing", "custom_jobs", ["id"], sqlite_where=_WHERE, postgresql_where=_WHERE
    )


def downgrade() -> None:
    op.drop_index("ix_custom_jobs_placing", "custom_jobs")
