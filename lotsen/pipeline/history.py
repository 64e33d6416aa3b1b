"""SQL building blocks over the stage history: what a household's stage was on a date,
when it first reached a stage. The household lists behind the dashboard's numbers use
them; the figures read the same facts from the milestone rows kept with the history
(lotsen.households.milestones).

"Reached" means reached *at least*: a household that went from New straight to Planning has
reached Contacted too, and one that moved back and forth counts once, at its first arrival.
Closed is outside the ladder: reaching it is only reaching Closed.
"""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, exists, not_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from lotsen import clock
from lotsen.households.milestones import LADDER, HouseholdMilestone
from lotsen.households.milestones import stage_on as milestone_stage_on
from lotsen.households.models import Household, StageChange
from lotsen.households.vocab import Stage
from lotsen.workdays import STOCKHOLM

ACTIVE = LADDER[:-1]  # a household at one of these still needs its guide


def day_start(day: date) -> datetime:
    """The UTC moment a Stockholm calendar day begins."""
    return datetime.combine(day, time(0), tzinfo=STOCKHOLM).astimezone(UTC)


def period_bounds(since: date, until: date) -> tuple[datetime, datetime]:
    """[start, end) in UTC for the Stockholm days ``since`` to ``until``, both included."""
    return day_start(since), day_start(until + timedelta(days=1))


def at_least(stage: Stage | str) -> tuple[str, ...]:
    """The stages whose reaching means ``stage`` was reached."""
    stage = Stage(stage)
    if stage == Stage.CLOSED:
        return (Stage.CLOSED.value,)
    return tuple(s.value for s in LADDER[LADDER.index(stage) :])


def _reached_before(household_id, stage: Stage | str, moment: datetime) -> ColumnElement[bool]:
    sc = aliased(StageChange)
    where = [sc.household_id == household_id, sc.at < moment]
    if Stage(stage) == Stage.NEW:
        where.append(sc.from_stage.is_(None))  # the first entry of every history
    else:
        where.append(sc.to_stage.in_(at_least(stage)))
    return exists().where(*where)


def first_reached_in(
    stage: Stage | str, start: datetime, end: datetime, household_id=Household.id
) -> ColumnElement[bool]:
    """The household first reached ``stage`` (at least) in [start, end)."""
    return and_(
        _reached_before(household_id, stage, end),
        not_(_reached_before(household_id, stage, start)),
    )


def reached_by(stage: Stage | str, end: datetime, household_id=Household.id) -> ColumnElement:
    """The household had reached ``stage`` (at least) before ``end``."""
    return _reached_before(household_id, stage, end)


def stage_on(moment: datetime, milestones: bool = False) -> ColumnElement:
    """The household's stage just before ``moment`` as its history says (None if it did not
    exist yet). With ``milestones`` the query reads HouseholdMilestone, whose row answers
    without a search for most households (lotsen.households.milestones.stage_on)."""
    sc = aliased(StageChange)
    owner = HouseholdMilestone.household_id if milestones else Household.id
    looked_up = (
        select(sc.to_stage)
        .where(sc.household_id == owner, sc.at < moment)
        .order_by(sc.at.desc(), sc.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return milestone_stage_on(moment, looked_up) if milestones else looked_up


def is_today_or_later(day: date) -> bool:
    return day >= clock.today()


def stage_condition(stage: Stage | str, on: date | None) -> ColumnElement[bool]:
    """The household was at ``stage`` at the end of day ``on`` (today or later: now)."""
    if on is None or is_today_or_later(on):
        # The current column is the last history entry (change_stage keeps them together).
        return Household.stage == Stage(stage)
    return stage_on(day_start(on + timedelta(days=1))) == Stage(stage).value
