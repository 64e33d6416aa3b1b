"""pipeline: the milestones once per household and municipality (its primary one counted
for the region), with the current stage, source and members, filled from the milestone rows

Revision ID: 0025_p14
Revises: 0025_p9
Create Date: 2026-11-27 14:10:00

"""

from alembic import op
import sqlalchemy as sa


revision = "0025_p14"
down_revision = "0025_p9"
branch_labels = None
depends_on = None

STAGES = ("new", "contacted", "planning", "visit", "decided", "moved_in", "closed")
SOURCES = (
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
)
FACTS = """h.stage, h.source, m.interest_at, m.contacted_at, m.planning_at, m.visit_at,
    m.decided_at, m.moved_in_at, {days},
    (SELECT count(*) FROM person p WHERE p.household_id = h.id AND p.kind = 'adult'),
    (SELECT count(*) FROM person p WHERE p.household_id = h.id AND p.kind = 'child')"""

# The same rule as lotsen.households.milestones.municipality_milestones_select, frozen here.
FILL = f"""
INSERT INTO household_municipality_milestone (household_id, municipality_code, counted,
    stage, source, interest_at, contacted_at, planning_at, visit_at, decided_at, moved_in_at,
    days_to_move, adults, children)
SELECT h.id, h.primary_municipality_code, {{true}}, {FACTS}
FROM household h LEFT OUTER JOIN household_milestone m ON m.household_id = h.id
UNION ALL
SELECT hm.household_id, hm.municipality_code, {{false}}, {FACTS}
FROM household_municipality hm JOIN household h ON h.id = hm.household_id
LEFT OUTER JOIN household_milestone m ON m.household_id = h.id
WHERE h.primary_municipality_code IS NULL OR hm.municipality_code != h.primary_municipality_code
"""


def upgrade():
    op.create_table(
        "household_municipality_milestone",
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("municipality_code", sa.String(length=4), nullable=True),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column(
            "stage",
            sa.Enum(*STAGES, name="stage", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "source",
            sa.Enum(*SOURCES, name="source", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column("interest_at", sa.DateTime(), nullable=True),
        sa.Column("contacted_at", sa.DateTime(), nullable=True),
        sa.Column("planning_at", sa.DateTime(), nullable=True),
        sa.Column("visit_at", sa.DateTime(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("moved_in_at", sa.DateTime(), nullable=True),
        sa.Column("days_to_move", sa.Float(), nullable=True),
        sa.Column("adults", sa.Integer(), nullable=False),
        sa.Column("children", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
            name=op.f("fk_household_municipality_milestone_household_id_household"),
            ondelete="CASCADE",
        ),
    )
    with op.batch_alter_table("household_municipality_milestone", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_household_municipality_milestone_household_id"),
            ["household_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_household_municipality_milestone_stage",
            ["municipality_code", "stage", "counted", "source"],
            unique=False,
        )
        batch_op.create_index(
            "ix_household_municipality_milestone_interest",
            ["interest_at", "municipality_code", "counted", "source", "contacted_at",
             "planning_at", "visit_at", "decided_at", "moved_in_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_household_municipality_milestone_moved_in",
            ["moved_in_at", "counted", "municipality_code", "source", "days_to_move",
             "adults", "children"],
            unique=False,
        )
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(fill(postgres))


def fill(postgres: bool) -> str:
    days = (
        "EXTRACT(EPOCH FROM m.moved_in_at - m.contacted_at) / 86400.0"
        if postgres
        else "julianday(m.moved_in_at) - julianday(m.contacted_at)"
    )
    return FILL.format(
        true="TRUE" if postgres else "1", false="FALSE" if postgres else "0", days=days
    )


def downgrade():
    op.drop_table("household_municipality_milestone")
