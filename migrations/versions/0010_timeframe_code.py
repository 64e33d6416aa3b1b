"""household timeframe as a code, shown in each reader's language

The interest form stored the chosen timeframe as its label in the visitor's language
("Innerhalb von sechs Monaten"); those labels are turned back into their codes here.

Revision ID: 0010_timeframe_code
Revises: 0015_imports
Create Date: 2026-11-27 10:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010_timeframe_code"
down_revision = "0015_imports"
branch_labels = None
depends_on = None

# The interest form's labels in every language it was offered in (en, sv, de, nl).
LABELS = {
    "6m": ("Within six months", "Inom sex månader", "Innerhalb von sechs Monaten", "Binnen zes maanden"),
    "1y": ("Within a year", "Inom ett år", "Innerhalb eines Jahres", "Binnen een jaar"),
    "2y": ("In one or two years", "Om ett eller två år", "In ein oder zwei Jahren", "Over een of twee jaar"),
    "later": (
        "Later, or not sure yet",
        "Senare, eller vet inte än",
        "Später oder noch unklar",
        "Later, of nog niet zeker",
    ),
}

household = sa.table(
    "household",
    sa.column("timeframe", sa.String),
    sa.column("timeframe_code", sa.String),
)


def upgrade():
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "timeframe_code",
                sa.Enum("6m", "1y", "2y", "later", name="timeframe", native_enum=False, length=20),
                nullable=True,
            )
        )
    for code, labels in LABELS.items():
        op.execute(
            household.update()
            .where(sa.func.lower(sa.func.trim(household.c.timeframe)).in_([x.lower() for x in labels]))
            .values(timeframe_code=code, timeframe=None)
        )


def downgrade():
    for code, labels in LABELS.items():
        op.execute(
            household.update()
            .where(household.c.timeframe_code == code, household.c.timeframe.is_(None))
            .values(timeframe=labels[1])  # Swedish, the staff's language
        )
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.drop_column("timeframe_code")
