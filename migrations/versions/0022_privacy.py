"""privacy: consents (moved out of the interest submission), disposal holds, anonymised mark

Revision ID: 0022_privacy
Revises: 0021_audit
Create Date: 2026-11-27 11:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0022_privacy"
down_revision = "0021_audit"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.Column("text_version", sa.String(length=40), nullable=False),
        sa.Column("given_at", sa.DateTime(), nullable=False),
        sa.Column("given_how", sa.String(length=20), nullable=False),
        sa.Column("given_by_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.Column("withdrawn_how", sa.String(length=20), nullable=True),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
            name=op.f("fk_consent_household_id_household"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_consent_person_id_person"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["given_by_id"], ["user.id"], name=op.f("fk_consent_given_by_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by_id"],
            ["user.id"],
            name=op.f("fk_consent_withdrawn_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    op.create_index("ix_consent_household_purpose", "consent", ["household_id", "purpose"])
    op.create_index(op.f("ix_consent_purpose"), "consent", ["purpose"])
    op.create_table(
        "disposal_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
            name=op.f("fk_disposal_hold_household_id_household"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["by_id"], ["user.id"], name=op.f("fk_disposal_hold_by_id_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disposal_hold")),
    )
    op.create_index(op.f("ix_disposal_hold_household_id"), "disposal_hold", ["household_id"])
    # a plain ADD COLUMN: a batch copy of household would drop SQLite's search triggers
    op.add_column("household", sa.Column("anonymised_at", sa.DateTime(), nullable=True))

    # The consent of each confirmed interest submission becomes a consent row (contact),
    # one per household: its first confirmed submission.
    op.execute(
        """
        INSERT INTO consent (household_id, purpose, text_version, given_at, given_how, created_at)
        SELECT s.household_id, 'contact', s.privacy_version, s.confirmed_at, 'interest_form',
               s.confirmed_at
        FROM interest_submission s
        WHERE s.status = 'confirmed' AND s.household_id IS NOT NULL
          AND s.confirmed_at IS NOT NULL
          AND s.id = (SELECT min(f.id) FROM interest_submission f
                      WHERE f.household_id = s.household_id AND f.status = 'confirmed'
                        AND f.confirmed_at IS NOT NULL)
        """
    )


def downgrade():
    op.drop_column("household", "anonymised_at")
    op.drop_index(op.f("ix_disposal_hold_household_id"), table_name="disposal_hold")
    op.drop_table("disposal_hold")
    op.drop_index(op.f("ix_consent_purpose"), table_name="consent")
    op.drop_index("ix_consent_household_purpose", table_name="consent")
    op.drop_table("consent")
