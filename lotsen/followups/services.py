from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lotsen.accounts.models import User
from lotsen.extensions import db
from lotsen.followups.models import FollowUp, FollowUpStatus
from lotsen.households.models import Household

DEFAULT_TITLE = _l("Follow up")


def create_followup(
    household: Household,
    *,
    due_on: date,
    by: User | None,
    title: str | None = None,
    assignee: User | None = None,
    note: str | None = None,
) -> FollowUp:
    """A follow-up for the household's guide (or ``assignee``), by default the creator."""
    assignee_id = assignee.id if assignee else (household.guide_id or (by.id if by else None))
    followup = FollowUp(
        household_id=household.id,
        assignee_id=assignee_id,
        title=title or str(DEFAULT_TITLE),
        note=note,
        due_on=due_on,
        created_by_id=by.id if by else None,
    )
    db.session.add(followup)
    db.session.flush()
    return followup


def open_followups(household: Household) -> list[FollowUp]:
    return list(
        db.session.scalars(
            select(FollowUp)
            .where(FollowUp.household_id == household.id, FollowUp.status == FollowUpStatus.OPEN)
            .order_by(FollowUp.due_on)
        )
    )
