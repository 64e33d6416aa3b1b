"""Sign-up rules: places, the waiting list, attendance, and the household's timeline.

Called alike by the staff pages, the public sign-up page and lead capture; they only flush.
"""

from datetime import datetime

from sqlalchemy import func, select

from lotsen import clock
from lotsen.accounts.models import User
from lotsen.audit import audit
from lotsen.events.models import Event, EventSignup
from lotsen.events.vocab import HOLDS_PLACE, EventStatus, SignupChannel, SignupStatus
from lotsen.extensions import db
from lotsen.households.models import Household, HouseholdEvent
from lotsen.households.vocab import EventKind


class SignupError(ValueError):
    """A sign-up the rules refuse (event cancelled or held, already signed up …)."""


def places_taken(event: Event) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(EventSignup.people), 0)).where(
            EventSignup.event_id == event.id, EventSignup.status.in_(HOLDS_PLACE)
        )
    )


def places_left(event: Event) -> int | None:
    """None when the event has no capacity limit."""
    if event.capacity is None:
        return None
    return max(event.capacity - places_taken(event), 0)


def signup_of(event: Event, household: Household) -> EventSignup | None:
    return db.session.scalar(
        select(EventSignup).where(
            EventSignup.event_id == event.id, EventSignup.household_id == household.id
        )
    )


def _timeline(signup: EventSignup, kind: EventKind, by: User | None, at: datetime) -> None:
    db.session.add(
        HouseholdEvent(
            household_id=signup.household_id,
            kind=kind,
            by_id=by.id if by else None,
            data={
                "event_id": signup.event_id,
                "event": signup.event.name,
                "status": str(signup.status),
                "channel": str(signup.channel),
            },
            at=at,
        )
    )


def sign_up(
    event: Event,
    household: Household,
    *,
    channel: SignupChannel,
    by: User | None,
    people: int = 1,
    now: datetime | None = None,
) -> EventSignup:
    """Sign ``household`` up for ``event``: a place if one is left, else the waiting list.
    Signing up again after a cancellation takes a new place; signing up while already on
    the list returns the existing sign-up unchanged. The household's first event is kept
    as its source."""
    now = now or clock.now()
    if event.status in (EventStatus.CANCELLED, EventStatus.HELD):
        raise SignupError(event.status)
    signup = signup_of(event, household)
    if signup is not None and signup.status != SignupStatus.CANCELLED:
        return signup
    left = places_left(event)
    status = SignupStatus.REGISTERED if left is None or left >= people else SignupStatus.WAITLISTED
    return place(
        event,
        household,
        status=status,
        channel=channel,
        by=by,
        people=people,
        now=now,
        signup=signup,
    )


def place(
    event: Event,
    household: Household,
    *,
    status: SignupStatus,
    channel: SignupChannel,
    by: User | None,
    now: datetime,
    people: int = 1,
    signup: EventSignup | None = None,
) -> EventSignup:
    """Record ``household`` at ``event`` with ``status`` — a new sign-up, or a cancelled
    ``signup`` taken up again: the row, the household's first event, the timeline and audit
    entries. Which status is the callers' rule (``sign_up``; lead capture: attended)."""
    by_id = by.id if by else None  # read before the new row is in the session: it may load
    if signup is None:
        signup = EventSignup(event=event, household_id=household.id, channel=channel)
        db.session.add(signup)
    signup.status, signup.people, signup.by_id = status, people, by_id
    signup.created_at = signup.status_changed_at = now
    if household.first_event_id is None:
        household.first_event_id = event.id
    db.session.flush()
    _timeline(signup, EventKind.EVENT_SIGNUP, by, now)
    audit(
        "event.signup",
        by=by,
        household_id=household.id,
        target=f"event:{event.id}",
        changes={"status": str(status), "channel": str(channel)},
    )
    return signup


def set_status(
    signup: EventSignup, status: SignupStatus, *, by: User | None, now: datetime | None = None
) -> list[EventSignup]:
    """Mark attended / no-show / cancelled (or back to registered). A cancelled place goes
    to the first on the waiting list; returns the sign-ups that moved up."""
    now = now or clock.now()
    if signup.status == status:
        return []
    freed = signup.status in HOLDS_PLACE and status not in HOLDS_PLACE
    signup.status, signup.status_changed_at = status, now
    db.session.flush()
    _timeline(signup, EventKind.EVENT_ATTENDANCE, by, now)
    audit(
        "event.attendance",
        by=by,
        household_id=signup.household_id,
        target=f"event:{signup.event_id}",
        changes={"status": str(status)},
    )
    if freed:
        return promote_waiting(signup.event, by=by, now=now)
    return []


def promote_waiting(event: Event, *, by: User | None, now: datetime) -> list[EventSignup]:
    """Give freed places to the waiting list, first come first served."""
    promoted = []
    waiting = db.session.scalars(
        select(EventSignup)
        .where(EventSignup.event_id == event.id, EventSignup.status == SignupStatus.WAITLISTED)
        .order_by(EventSignup.created_at, EventSignup.id)
    ).all()
    for signup in waiting:
        left = places_left(event)
        if left is not None and left < signup.people:
            break
        signup.status, signup.status_changed_at = SignupStatus.REGISTERED, now
        db.session.flush()
        _timeline(signup, EventKind.EVENT_ATTENDANCE, by, now)
        promoted.append(signup)
    return promoted
