"""The pipeline board: a guide's households in columns per stage, moved by buttons."""

from dataclasses import dataclass

from sqlalchemy import func, select

from lotsen.access import household_scope, ids_in_municipalities
from lotsen.accounts.models import User
from lotsen.extensions import db
from lotsen.households.models import Household
from lotsen.households.vocab import Stage
from lotsen.pipeline.history import LADDER

COLUMN_LIMIT = 30  # cards per column; the column links to the full list


@dataclass
class Card:
    id: int
    name: str
    stage: Stage
    municipality: str | None

    @property
    def previous(self) -> Stage | None:
        if self.stage not in LADDER or self.stage == LADDER[0]:
            return None
        return LADDER[LADDER.index(self.stage) - 1]

    @property
    def next(self) -> Stage | None:
        if self.stage not in LADDER or self.stage == LADDER[-1]:
            return None
        return LADDER[LADDER.index(self.stage) + 1]


@dataclass
class Column:
    stage: Stage
    cards: list[Card]
    total: int


def board(user: User, municipality: str | None = None, mine: bool = False) -> list[Column]:
    """Every stage's most recently moved households (two queries whatever the volume)."""
    conds = [household_scope(user)]
    if municipality:
        conds.append(Household.id.in_(ids_in_municipalities([municipality])))
    if mine:
        conds.append(Household.guide_id == user.id)
    totals = dict(
        db.session.execute(
            select(Household.stage, func.count()).where(*conds).group_by(Household.stage)
        ).all()
    )
    position = (
        func.row_number()
        .over(
            partition_by=Household.stage,
            order_by=(Household.stage_changed_at.desc(), Household.id.desc()),
        )
        .label("pos")
    )
    ranked = (
        select(
            Household.id,
            Household.name,
            Household.stage,
            Household.primary_municipality_code,
            position,
        )
        .where(*conds)
        .subquery()
    )
    cards: dict[Stage, list[Card]] = {s: [] for s in Stage}
    for id_, name, stage, code, _pos in db.session.execute(
        select(ranked).where(ranked.c.pos <= COLUMN_LIMIT).order_by(ranked.c.pos)
    ):
        cards[Stage(stage)].append(Card(id_, name, Stage(stage), code))
    return [Column(s, cards[s], totals.get(s, 0)) for s in Stage]
