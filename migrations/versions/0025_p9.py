"""household list: (last_contact_at NULLS FIRST, id) index for the list sorted by last
contact (replaces the plain last_contact_at index, which PostgreSQL could not walk in that
order)

Revision ID: 0025_p9
Revises: 0025_ev_public
Create Date: 2026-11-27 14:05:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0025_p9"
down_revision = "0025_ev_public"
branch_labels = None
depends_on = None


def upgrade():
    # plain CREATE/DROP INDEX, no batch copy of household (that would drop SQLite's FTS
    # triggers)
    op.create_index(
        "ix_household_last_contact_id",
        "household",
        ["last_contact_at", "id"],
        postgresql_ops={"last_contact_at": "NULLS FIRST"},
    )
    op.drop_index("ix_household_last_contact_at", table_name="household")


def downgrade():
    op.create_index("ix_household_last_contact_at", "household", ["last_contact_at"])
    op.drop_index("ix_household_last_contact_id", table_name="household")
