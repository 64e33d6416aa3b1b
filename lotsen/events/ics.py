"""An event as the public sees it: its time in Swedish words, its description in the reader's
language, and the .ics invitation (RFC 5545, built with icalendar) a sign-up gets by e-mail."""

from datetime import datetime

from babel.dates import format_date, format_time
from flask import current_app

from lotsen.clock import ZONE
from lotsen.events.models import Event, EventSignup
from lotsen.mail import external_url

FALLBACK_LANGUAGES = ("sv", "en")


def description_for(event: Event, locale: str) -> str:
    """The public description in ``locale``, else Swedish, else English, else any."""
    texts = event.descriptions or {}
    for lang in (locale, *FALLBACK_LANGUAGES, *sorted(texts)):
        if (texts.get(lang) or "").strip():
            return texts[lang].strip()
    return ""


def local_times(event: Event) -> tuple[datetime, datetime]:
    return event.starts_at.astimezone(ZONE), event.ends_at.astimezone(ZONE)


def when_text(event: Event, locale: str) -> str:
    """'Saturday, 12 December 2026, 10:00–16:00' in Swedish time, in ``locale``'s words."""
    start, end = local_times(event)
    day = format_date(start.date(), "full", locale=locale)
    first = format_time(start.time(), "short", locale=locale)
    last = format_time(end.time(), "short", locale=locale)
    if start.date() == end.date():
        return f"{day}, {first}–{last}"
    return f"{day}, {first} – {format_date(end.date(), 'full', locale=locale)}, {last}"


def zone_text(event: Event) -> str:
    """The zone's abbreviation at the start (CET in winter, CEST in summer)."""
    return local_times(event)[0].tzname() or "Europe/Stockholm"


def place_text(event: Event, locale: str) -> str:
    from babel import Locale

    parts = [event.place or ""]
    if event.country:
        parts.append(Locale.parse(locale).territories.get(event.country, event.country))
    return ", ".join(p for p in parts if p)


def uid(signup: EventSignup) -> str:
    """Stable per sign-up: a calendar that got the invitation twice keeps one entry."""
    domain = current_app.config["MAIL_FROM"].rpartition("@")[2].strip("> ") or "lotsen.local"
    return f"event-{signup.event_id}-signup-{signup.id}@{domain}"


def invitation(signup: EventSignup, locale: str, now: datetime) -> bytes:
    """The sign-up's calendar entry (METHOD:PUBLISH: added to a calendar, no reply asked)."""
    from icalendar import Calendar
    from icalendar import Event as CalendarEvent

    event = signup.event
    page = external_url("event_public.page", slug=event.slug, lang=locale)
    cal = Calendar()
    cal.add("prodid", "-//Move Up North//Lotsen//SV")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    entry = CalendarEvent()
    entry.add("uid", uid(signup))
    entry.add("dtstamp", now)
    entry.add("dtstart", event.starts_at)  # UTC ("Z"): no time-zone table needed
    entry.add("dtend", event.ends_at)
    entry.add("summary", event.name)
    place = place_text(event, locale)
    if place:
        entry.add("location", place)
    entry.add("url", event.online_url or page)
    description = description_for(event, locale)
    entry.add("description", "\n\n".join(t for t in (description, event.online_url, page) if t))
    entry.add("status", "CONFIRMED")
    entry.add("transp", "OPAQUE")
    cal.add_component(entry)
    return cal.to_ical()


def invitation_attachment(signup: EventSignup, locale: str, now: datetime) -> dict:
    """The invitation as an outbox attachment."""
    return {
        "filename": f"{signup.event.slug}.ics",
        "content_type": "text/calendar; method=PUBLISH",
        "content": invitation(signup, locale, now).decode(),
    }
