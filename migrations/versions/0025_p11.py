"""audit: the household index of audit_entry also carries id, user and action, so that the
household page's "Who has accessed" panel reads it alone (an index-only scan, no sort)

Revision ID: 0025_p11
Revises: 0025_ev_outcomes
Create Date: 2026-11-27 14:20:00

"""

from alembic import op


revision = "0025_p11"
down_revision = "0025_ev_outcomes"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_audit_entry_household_at", table_name="audit_entry")
    op.create_index(
        "ix_audit_entry_household_at",
        "audit_entry",
        ["household_id", "at", "id", "user_id", "action"],
    )


def downgrade():
    op.drop_index("ix_audit_entry_household_at", table_name="audit_entry")
    op.create_index("ix_audit_entry_household_at", "audit_entry", ["household_id", "at"])
