"""The private calendar feed (RFC 5545) of a user's open follow-ups, built with icalendar."""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lotsen.accounts.models import User
from lotsen.extensions import db
from lotsen.followups.models import FollowUp, FollowUpStatus
from lotsen.workdays import STOCKHOLM

TIMED_EVENT_MINUTES = 30


def followups_calendar(user: User, now: datetime) -> bytes:
    from icalendar import Calendar, Event  # only the feed needs it: not in every web worker

    cal = Calendar()
    cal.add("prodid", "-//Move Up North//Lotsen//SV")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Lotsen – {user.name}")
    cal.add("x-wr-timezone", "Europe/Stockholm")
    base = current_app.config["BASE_URL"].rstrip("/")
    followups = db.session.scalars(
        select(FollowUp)
        .where(FollowUp.assignee_id == user.id, FollowUp.status == FollowUpStatus.OPEN)
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
        event.add("url", f"{base}/households/{f.household_id}")
        if f.note:
            event.add("description", f.note)
        cal.add_component(event)
    return cal.to_ical()
