"""job health: each job's last outcome, last error, last success, and since when it is scheduled

Revision ID: 0013_job_health
Revises: 0003_interest
Create Date: 2026-11-27 10:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0013_job_health"
down_revision = "0003_interest"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("job_lease") as batch_op:
        batch_op.add_column(sa.Column("last_outcome", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("last_ok_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("scheduled_since", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("job_lease") as batch_op:
        batch_op.drop_column("scheduled_since")
        batch_op.drop_column("last_ok_at")
        batch_op.drop_column("last_error")
        batch_op.drop_column("last_outcome")
