"""The household list's history filters: the list behind each dashboard figure.

The dashboard links every number to ``/households?...`` with these arguments; the list
applies the same SQL rules (lotsen.pipeline.history) under the user's scope, so the list
holds exactly the households the number counts.
"""

from datetime import timedelta

from sqlalchemy import exists
from sqlalchemy.sql import ColumnElement

from lotsen import clock
from lotsen.followups.models import FollowUp, FollowUpStatus
from lotsen.households.models import Household
from lotsen.pipeline.history import (
    ACTIVE,
    day_start,
    first_reached_in,
    period_bounds,
    reached_by,
    stage_condition,
)


def history_conditions(f) -> list[ColumnElement[bool]]:
    """Conditions for the ``Filters`` fields reached/since/until/converted/stage_on/active/
    overdue (the plain ``stage`` filter is replaced when ``stage_on`` is given)."""
    conds = []
    if f.reached and f.since and f.until:
        conds.append(first_reached_in(f.reached, *period_bounds(f.since, f.until)))
    if f.converted:
        end = day_start(f.until + timedelta(days=1)) if f.until else clock.now()
        conds.append(reached_by(f.converted, end))
    if f.stage_on and f.stage:
        conds.append(stage_condition(f.stage, f.stage_on))
    if f.active:
        conds.append(Household.stage.in_([s.value for s in ACTIVE]))
    if f.overdue:
        conds.append(
            exists().where(
                FollowUp.household_id == Household.id,
                FollowUp.assignee_id == f.overdue,
                FollowUp.status == FollowUpStatus.OPEN,
                FollowUp.due_on < clock.today(),
            )
        )
    return conds
