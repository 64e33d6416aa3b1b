"""The private calendar feed (RFC 5545) of a user's open follow-ups, built with icalendar."""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lotsen.access import household_visible
from lotsen.accounts.models import User, new_feed_token
from lotsen.extensions import db
from lotsen.followups.models import FollowUp, FollowUpStatus
from lotsen.households.models import Household
from lotsen.mail import external_url
from lotsen.workdays import STOCKHOLM

TIMED_EVENT_MINUTES = 30


def enable_calendar_feed(user: User) -> str:
    """A new secret for the user's feed; a link made before stops working."""
    user.ical_token = new_feed_token()
    db.session.flush()
    return user.ical_token


def disable_calendar_feed(user: User) -> None:
    user.ical_token = None
    db.session.flush()


def followups_calendar(user: User, now: datetime) -> bytes:
    from icalendar import Calendar, Event  # only the feed needs it: not in every web worker

    cal = Calendar()
    cal.add("prodid", "-//Move Up North//Lotsen//SV")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Lotsen – {user.name}")
    cal.add("x-wr-timezone", "Europe/Stockholm")
    followups = db.session.scalars(
        select(FollowUp)
        .join(Household, Household.id == FollowUp.household_id)
        .where(
            FollowUp.assignee_id == user.id,
            FollowUp.status == FollowUpStatus.OPEN,
            household_visible(user),
        )
        .options(joinedload(FollowUp.household))
        .order_by(FollowUp.due_on)
    )
    for f in followups:
        event = Event()
        event.add("uid", f"followup-{f.id}@lotsen")
        event.add("dtstamp", now)
        event.add("summary", f"{f.household.name}: {f.title}")
        if f.due_time is None:
            event.add("dtstart", f.due_on)
            event.add("dtend", f.due_on + timedelta(days=1))
        else:
            start = datetime.combine(f.due_on, f.due_time, tzinfo=STOCKHOLM)
            event.add("dtstart", start)
            event.add("dtend", start + timedelta(minutes=TIMED_EVENT_MINUTES))
        event.add("url", external_url("households.view", household_id=f.household_id))
        if f.note:
            event.add("description", f.note)
        cal.add_component(event)
    return cal.to_ical()
