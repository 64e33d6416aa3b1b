"""event outcomes: covering indexes for the figures per event (sign-ups by status with their
households, an event's captured households)

Revision ID: 0025_ev_outcomes
Revises: 0025_p14
"""

from alembic import op

revision = "0025_ev_outcomes"
down_revision = "0025_p14"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_event_signup_outcomes", "event_signup", ["event_id", "status", "household_id"]
    )
    op.create_index("ix_lead_capture_event_household", "lead_capture", ["event_id", "household_id"])


def downgrade():
    op.drop_index("ix_lead_capture_event_household", table_name="lead_capture")
    op.drop_index("ix_event_signup_outcomes", table_name="event_signup")
