from datetime import date, datetime

from lotsen import clock
from lotsen.accounts.models import User
from lotsen.audit import audit
from lotsen.contacts.models import Channel, Contact, Direction
from lotsen.extensions import db
from lotsen.followups.models import FollowUp
from lotsen.followups.services import create_followup
from lotsen.households.models import Household


def log_contact(
    household: Household,
    by: User | None,
    *,
    channel: Channel,
    direction: Direction,
    summary: str,
    at: datetime | None = None,
    next_followup_on: date | None = None,
) -> tuple[Contact, FollowUp | None]:
    """Record a contact; optionally plan the next follow-up in the same step."""
    at = at or clock.now()
    contact = Contact(
        household_id=household.id,
        at=at,
        channel=Channel(channel),
        direction=Direction(direction),
        summary=summary,
        by_id=by.id if by else None,
    )
    db.session.add(contact)
    db.session.flush()
    audit(
        "contact.create",
        by=by,
        household_id=household.id,
        target=f"contact:{contact.id}",
        changes={"channel": contact.channel, "direction": contact.direction, "summary": summary},
    )
    if household.last_contact_at is None or at > household.last_contact_at:
        household.last_contact_at = at
    followup = None
    if next_followup_on is not None:
        followup = create_followup(household, due_on=next_followup_on, by=by)
    db.session.flush()
    return contact, followup
