"""events and outreach: events, their municipalities and staff, sign-ups, lead captures,
the communicator's audiences; a household's first event; an event on an interest submission

Revision ID: 0024_events
Revises: 0020_pipeline_milestones
Create Date: 2026-11-27 13:33:39.108711

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0024_events"
down_revision = "0020_pipeline_milestones"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audience",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user.id"],
            name=op.f("fk_audience_created_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audience")),
    )
    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "fair",
                "webinar",
                "visit_trip",
                "open_house",
                "other",
                name="eventtype",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "open",
                "closed",
                "held",
                "cancelled",
                name="eventstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("online_url", sa.String(length=500), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("descriptions", sa.JSON(), nullable=False),
        sa.Column("cost_sek", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user.id"],
            name=op.f("fk_event_created_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
        sa.UniqueConstraint("slug", name=op.f("uq_event_slug")),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_starts_at", ["starts_at"], unique=False)

    op.create_table(
        "event_municipality",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("municipality_code", sa.String(length=4), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_municipality_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"],
            ["municipality.code"],
            name=op.f("fk_event_municipality_municipality_code_municipality"),
        ),
        sa.PrimaryKeyConstraint(
            "event_id", "municipality_code", name=op.f("pk_event_municipality")
        ),
    )
    with op.batch_alter_table("event_municipality", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_municipality_municipality_code"),
            ["municipality_code"],
            unique=False,
        )

    op.create_table(
        "event_staff",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_staff_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_event_staff_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("event_id", "user_id", name=op.f("pk_event_staff")),
    )
    with op.batch_alter_table("event_staff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_staff_user_id"), ["user_id"], unique=False)

    op.create_table(
        "event_signup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "registered",
                "waitlisted",
                "attended",
                "no_show",
                "cancelled",
                name="signupstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "channel",
            sa.Enum(
                "staff", "public", "capture", name="signupchannel", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(), nullable=False),
        sa.Column("reminder_sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["by_id"], ["user.id"], name=op.f("fk_event_signup_by_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_signup_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
            name=op.f("fk_event_signup_household_id_household"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_signup")),
        sa.UniqueConstraint("event_id", "household_id", name=op.f("uq_event_signup_event_id")),
    )
    with op.batch_alter_table("event_signup", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_signup_event_status", ["event_id", "status", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_event_signup_household", ["household_id", "event_id"], unique=False
        )

    op.create_table(
        "lead_capture",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("captured_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["by_id"], ["user.id"], name=op.f("fk_lead_capture_by_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_lead_capture_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
            name=op.f("fk_lead_capture_household_id_household"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_capture")),
        sa.UniqueConstraint("client_key", name=op.f("uq_lead_capture_client_key")),
    )
    with op.batch_alter_table("lead_capture", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lead_capture_event_id"), ["event_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_lead_capture_household_id"), ["household_id"], unique=False
        )

    # a plain ADD COLUMN: a batch copy of household would drop SQLite's search triggers
    op.add_column("household", sa.Column("first_event_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_household_first_event_id"), "household", ["first_event_id"])
    with op.batch_alter_table("interest_submission") as batch_op:
        batch_op.add_column(sa.Column("event_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_interest_submission_event_id_event"),
            "event",
            ["event_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade():
    with op.batch_alter_table("interest_submission", recreate="always") as batch_op:
        batch_op.drop_constraint("fk_interest_submission_event_id_event", type_="foreignkey")
        batch_op.drop_column("event_id")
    op.drop_index(op.f("ix_household_first_event_id"), table_name="household")
    op.drop_column("household", "first_event_id")
    with op.batch_alter_table("lead_capture", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_capture_household_id"))
        batch_op.drop_index(batch_op.f("ix_lead_capture_event_id"))

    op.drop_table("lead_capture")
    with op.batch_alter_table("event_signup", schema=None) as batch_op:
        batch_op.drop_index("ix_event_signup_household")
        batch_op.drop_index("ix_event_signup_event_status")

    op.drop_table("event_signup")
    with op.batch_alter_table("event_staff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_staff_user_id"))

    op.drop_table("event_staff")
    with op.batch_alter_table("event_municipality", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_municipality_municipality_code"))

    op.drop_table("event_municipality")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_starts_at")

    op.drop_table("event")
    op.drop_table("audience")
