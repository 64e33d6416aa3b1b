"""pipeline: one milestone row per household (first arrival at each stage, latest entry),
filled from the existing stage history

Revision ID: 0020_pipeline_milestones
Revises: 0023_two_factor
Create Date: 2026-11-27 11:45:00

"""

from alembic import op
import sqlalchemy as sa


revision = "0020_pipeline_milestones"
down_revision = "0023_two_factor"
branch_labels = None
depends_on = None

LADDER = ("new", "contacted", "planning", "visit", "decided", "moved_in")


def _first(stages):
    listed = ", ".join(f"'{s}'" for s in stages)
    return f"MIN(CASE WHEN e.to_stage IN ({listed}) THEN e.at END)"


RANK = "CASE sc.to_stage " + " ".join(
    f"WHEN '{s}' THEN {i}" for i, s in enumerate(LADDER)
) + " ELSE -1 END"

# The same rule as lotsen.households.milestones.milestones_select, frozen here.
FILL = f"""
INSERT INTO household_milestone (household_id, interest_at, contacted_at, planning_at,
    visit_at, decided_at, moved_in_at, closed_at, first_at, straight_until, last_at,
    last_stage, source)
SELECT e.household_id,
    MIN(CASE WHEN e.from_stage IS NULL THEN e.at END),
    {_first(LADDER[1:])},
    {_first(LADDER[2:])},
    {_first(LADDER[3:])},
    {_first(LADDER[4:])},
    {_first(LADDER[5:])},
    {_first(('closed',))},
    MIN(e.at),
    MIN(CASE WHEN e.to_stage = 'closed' OR (e.prev IS NOT NULL AND e.rank <= e.prev)
        THEN e.at END),
    MAX(e.at),
    (SELECT l.to_stage FROM stage_change l WHERE l.household_id = e.household_id
     ORDER BY l.at DESC, l.id DESC LIMIT 1),
    h.source
FROM (
    SELECT sc.household_id, sc.at, sc.from_stage, sc.to_stage, {RANK} AS rank,
        LAG({RANK}) OVER (PARTITION BY sc.household_id ORDER BY sc.at, sc.id) AS prev
    FROM stage_change sc
) e
JOIN household h ON h.id = e.household_id
GROUP BY e.household_id, h.source
"""


def upgrade():
    op.create_table(
        "household_milestone",
        sa.Column("household_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("interest_at", sa.DateTime(), nullable=True),
        sa.Column("contacted_at", sa.DateTime(), nullable=True),
        sa.Column("planning_at", sa.DateTime(), nullable=True),
        sa.Column("visit_at", sa.DateTime(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("moved_in_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("first_at", sa.DateTime(), nullable=True),
        sa.Column("straight_until", sa.DateTime(), nullable=True),
        sa.Column("last_at", sa.DateTime(), nullable=True),
        sa.Column(
            "last_stage",
            sa.Enum(
                "new",
                "contacted",
                "planning",
                "visit",
                "decided",
                "moved_in",
                "closed",
                name="stage",
                native_enum=False,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column(
            "source",
            sa.Enum(
                "fair",
                "website",
                "social_media",
                "campaign",
                "friend",
                "employer",
                "returnee_mailing",
                "event",
                "interest_form",
                "other",
                name="source",
                native_enum=False,
                length=20,
            ),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
            name=op.f("fk_household_milestone_household_id_household"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("household_id", name=op.f("pk_household_milestone")),
    )
    with op.batch_alter_table("household_milestone", schema=None) as batch_op:
        batch_op.create_index(
            "ix_household_milestone_interest",
            ["interest_at", "source", "contacted_at", "planning_at", "visit_at", "decided_at",
             "moved_in_at", "household_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_household_milestone_moved_in",
            ["moved_in_at", "contacted_at", "source", "household_id"],
            unique=False,
        )
    op.execute(FILL)
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index("ix_person_household_kind", ["household_id", "kind"], unique=False)
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.create_index('ix_household_guide_workload', ['guide_id', 'stage', 'last_contact_at', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index("ix_person_household_kind")
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_index('ix_household_guide_workload')
    with op.batch_alter_table("household_milestone", schema=None) as batch_op:
        batch_op.drop_index("ix_household_milestone_moved_in")
        batch_op.drop_index("ix_household_milestone_interest")
    op.drop_table("household_milestone")
