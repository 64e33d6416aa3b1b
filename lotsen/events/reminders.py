"""The reminder the day before: every registered sign-up of an event that starts tomorrow
(the Swedish calendar date) gets one e-mail, through the outbox.

Runs daily at ``SCHEDULER_EVENT_REMINDER_TIME`` (10:00 Swedish time by default): a fixed
morning hour reaches people while they can still plan the day, and a missed run is caught
up within the scheduler's grace time. Exactly once: ``reminder_sent_at`` is set in the same
transaction, and the outbox key (sign-up and event date) would stop a second mail anyway.
Cancelled and held events, cancelled and waiting sign-ups, and households without an
e-mail address (or anonymised) are skipped.
"""

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lotsen.clock import local_date, local_to_utc
from lotsen.events.ics import invitation_attachment
from lotsen.events.models import Event, EventSignup
from lotsen.events.optin import cancel_token, event_context, locale_of
from lotsen.events.vocab import EventStatus, SignupStatus
from lotsen.extensions import db
from lotsen.households.models import Household
from lotsen.jobs import job
from lotsen.mail import compose_mail, send_mails


@job("event-reminders")
def send_event_reminders(now: datetime) -> int:
    """Queue tomorrow's reminders; returns how many sign-ups were reminded."""
    tomorrow = local_date(now) + timedelta(days=1)
    start, end = local_to_utc(tomorrow, time()), local_to_utc(tomorrow + timedelta(days=1), time())
    signups = db.session.scalars(
        select(EventSignup)
        .join(Event, Event.id == EventSignup.event_id)
        .join(Household, Household.id == EventSignup.household_id)
        .where(
            Event.starts_at >= start,
            Event.starts_at < end,
            Event.status.not_in((EventStatus.CANCELLED, EventStatus.HELD)),
            EventSignup.status == SignupStatus.REGISTERED,
            EventSignup.reminder_sent_at.is_(None),
            Household.email.is_not(None),
            Household.anonymised_at.is_(None),
        )
        .options(joinedload(EventSignup.event), joinedload(EventSignup.household))
        .order_by(EventSignup.id)
    ).all()
    mails = []
    for signup in signups:
        locale = locale_of(signup.household)
        mails.append(
            compose_mail(
                "event_reminder",
                to=signup.household.email,
                locale=locale,
                key=f"event-reminder:{signup.id}:{tomorrow.isoformat()}",
                attachments=[invitation_attachment(signup, locale, now)],
                signup=signup,
                cancel=cancel_token(signup),
                **event_context(signup.event, locale),
            )
        )
        signup.reminder_sent_at = now
    send_mails(mails, now)
    db.session.flush()
    return len(signups)
