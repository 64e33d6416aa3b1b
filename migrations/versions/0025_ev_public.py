"""outbox messages may carry attachments (an event's .ics invitation) and extra headers

Revision ID: 0025_ev_public
Revises: 0024_events
Create Date: 2026-11-27 13:45:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0025_ev_public"
down_revision = "0024_events"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch copy of the table).
    op.add_column("outbox_message", sa.Column("attachments", sa.JSON(), nullable=True))
    op.add_column("outbox_message", sa.Column("headers", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("headers")
        batch_op.drop_column("attachments")
