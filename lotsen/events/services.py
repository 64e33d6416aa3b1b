"""Events on the staff side: saving an event, the list, the sign-up list of one event.

Plain functions of values and the acting user; they only flush. The sign-up rules
themselves (places, waiting list, attendance) are in signups.py.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, case, func, or_, select
from sqlalchemy.orm import selectinload

from lotsen import clock
from lotsen.access import event_manageable, household_visible
from lotsen.accounts.models import Role, User
from lotsen.audit import audit
from lotsen.events.models import Event, EventSignup, held_in
from lotsen.events.optin import notify_cancelled, notify_promoted
from lotsen.events.signups import places_taken, promote_waiting
from lotsen.events.vocab import HOLDS_PLACE, EventStatus, EventType, SignupStatus
from lotsen.extensions import db
from lotsen.households.models import Household
from lotsen.regions.models import Municipality

LANGUAGES = ("sv", "en", "de", "nl")  # the public description's languages
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG_MAX = 80
# Events a household can still be signed up for from its page.
SIGNUP_OPEN = (EventStatus.PLANNED, EventStatus.OPEN)
# Sign-ups the attendance page lists (a cancelled one is signed up again from the household).
ON_ATTENDANCE_LIST = (
    SignupStatus.REGISTERED,
    SignupStatus.WAITLISTED,
    SignupStatus.ATTENDED,
    SignupStatus.NO_SHOW,
)
# Which attendance buttons a sign-up of each status offers (the server checks the same).
NEXT_STATUSES = {
    SignupStatus.REGISTERED: (SignupStatus.ATTENDED, SignupStatus.NO_SHOW, SignupStatus.CANCELLED),
    SignupStatus.WAITLISTED: (SignupStatus.ATTENDED, SignupStatus.CANCELLED),
    SignupStatus.ATTENDED: (SignupStatus.NO_SHOW, SignupStatus.REGISTERED),
    SignupStatus.NO_SHOW: (SignupStatus.ATTENDED, SignupStatus.REGISTERED),
    SignupStatus.CANCELLED: (),
}


class EventError(ValueError):
    """An event the rules refuse (a slug taken meanwhile …); the message is for the user."""


# -- saving --------------------------------------------------------------------------------


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by hyphens: "Besök i Malå" -> "besok-i-mala"."""
    text = text.lower().replace("ß", "ss").replace("æ", "ae").replace("ø", "o")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def make_slug(name: str, starts_at: datetime, exclude_id: int | None = None) -> str:
    """A free slug from the name and the Swedish start date, e.g. ``emigratiebeurs-2027-03-14``
    (``-2``, ``-3`` … when taken)."""
    day = clock.local_date(starts_at).isoformat()
    base = f"{slugify(name)[: SLUG_MAX - len(day) - 4].strip('-')}-{day}".strip("-")
    taken = set(
        db.session.scalars(
            select(Event.slug).where(Event.slug.like(f"{base}%"), Event.id != (exclude_id or 0))
        )
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def slug_taken(slug: str, exclude_id: int | None = None) -> bool:
    return (
        db.session.scalar(select(Event.id).where(Event.slug == slug, Event.id != (exclude_id or 0)))
        is not None
    )


@dataclass
class EventData:
    """What the event form gives: plain values, times aware in UTC."""

    name: str
    kind: EventType
    starts_at: datetime
    ends_at: datetime
    status: EventStatus
    municipality_codes: list[str]
    staff_ids: list[int] = field(default_factory=list)
    place: str | None = None
    country: str | None = None
    online_url: str | None = None
    capacity: int | None = None
    cost_sek: int | None = None
    descriptions: dict[str, str] = field(default_factory=dict)
    slug: str | None = None  # None: made from name and date (coordinators may set one)


def _snapshot(event: Event) -> dict[str, Any]:
    return {
        "name": event.name,
        "kind": event.kind,
        "status": event.status,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "place": event.place,
        "country": event.country,
        "online_url": event.online_url,
        "capacity": event.capacity,
        "cost_sek": event.cost_sek,
        "slug": event.slug,
        "descriptions": dict(event.descriptions or {}),
        "municipalities": sorted(event.municipality_codes),
        "staff": sorted(u.id for u in event.staff),
    }


def save_event(data: EventData, by: User, event: Event | None = None) -> Event:
    """Create ``event`` (None) or change it; audited with what changed. A raised capacity
    gives the freed places to the waiting list (each promoted person is mailed). The public
    slug is made from name and date and follows them while the event is still *planned*;
    once it has been open for sign-up (its link may be out there) it stays unless set
    explicitly."""
    creating = event is None
    if creating:
        event = Event(created_by_id=by.id, descriptions={})
        db.session.add(event)
        before: dict[str, Any] = {}
        was_planned = True
    else:
        before = _snapshot(event)
        was_planned = event.status == EventStatus.PLANNED
    with db.session.no_autoflush:  # the new event is complete (a slug) before its INSERT
        old_capacity = event.capacity
        event.name, event.kind, event.status = data.name, data.kind, data.status
        event.starts_at, event.ends_at = data.starts_at, data.ends_at
        event.place, event.country = data.place or None, data.country or None
        event.online_url = data.online_url or None
        event.capacity, event.cost_sek = data.capacity, data.cost_sek
        event.descriptions = {k: v for k, v in data.descriptions.items() if k in LANGUAGES and v}
        event.municipalities = list(
            db.session.scalars(
                select(Municipality).where(Municipality.code.in_(sorted(data.municipality_codes)))
            )
        )
        event.staff = (
            list(db.session.scalars(select(User).where(User.id.in_(sorted(data.staff_ids)))))
            if data.staff_ids
            else []
        )
        if data.slug:
            if slug_taken(data.slug, event.id):
                raise EventError(data.slug)
            event.slug = data.slug
        elif creating or was_planned:
            event.slug = make_slug(data.name, data.starts_at, event.id)
    db.session.flush()
    after = _snapshot(event)
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    audit(
        "event.create" if creating else "event.update",
        by=by,
        target=f"event:{event.id}",
        changes=changes,
    )
    if not creating and before["status"] != event.status == EventStatus.CANCELLED:
        notify_cancelled(event, clock.now())  # everyone still signed up or waiting
    raised = old_capacity is not None and (event.capacity is None or event.capacity > old_capacity)
    if raised and not creating:
        now = clock.now()
        notify_promoted(promote_waiting(event, by=by, now=now), now)  # each is mailed
    return event


# -- the list ------------------------------------------------------------------------------


@dataclass
class EventFilters:
    when: str = "upcoming"  # upcoming | past | all
    status: str | None = None
    kind: str | None = None
    municipality: str | None = None


@dataclass
class EventRow:
    event: Event
    taken: int
    waiting: int

    @property
    def left(self) -> int | None:
        capacity = self.event.capacity
        return None if capacity is None else max(capacity - self.taken, 0)


def _counts() -> Select:
    """Places taken and households waiting per event, one grouped query."""
    return (
        select(
            EventSignup.event_id,
            func.coalesce(
                func.sum(case((EventSignup.status.in_(HOLDS_PLACE), EventSignup.people))), 0
            ).label("taken"),
            func.count(case((EventSignup.status == SignupStatus.WAITLISTED, 1))).label("waiting"),
        )
        .group_by(EventSignup.event_id)
        .subquery()
    )


def list_events(
    filters: EventFilters, now: datetime, page: int = 1, per_page: int = 50
) -> tuple[list[EventRow], int]:
    """One page of events (every event-working role sees every event) and the total.
    Upcoming (not yet over) soonest first; past ones latest first."""
    counts = _counts()
    stmt = select(Event, counts.c.taken, counts.c.waiting).outerjoin(
        counts, counts.c.event_id == Event.id
    )
    if filters.when == "upcoming":
        stmt = stmt.where(Event.ends_at >= now).order_by(Event.starts_at, Event.id)
    elif filters.when == "past":
        stmt = stmt.where(Event.ends_at < now).order_by(Event.starts_at.desc(), Event.id.desc())
    else:
        stmt = stmt.order_by(Event.ends_at < now, Event.starts_at, Event.id)
    if filters.status:
        stmt = stmt.where(Event.status == filters.status)
    if filters.kind:
        stmt = stmt.where(Event.kind == filters.kind)
    if filters.municipality:
        stmt = stmt.where(held_in(filters.municipality))
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.execute(
        stmt.options(selectinload(Event.municipalities))
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return [EventRow(e, taken or 0, waiting or 0) for e, taken, waiting in rows], total


def may_manage(user: User, event: Event) -> bool:
    return (
        db.session.scalar(select(Event.id).where(Event.id == event.id, event_manageable(user)))
        is not None
    )


def may_create_events(user: User) -> bool:
    return user.role == Role.COORDINATOR or (
        user.role == Role.GUIDE and bool(user.municipality_codes)
    )


# -- one event's sign-ups -------------------------------------------------------------------


@dataclass
class SignupList:
    """The sign-ups of one event as ``user`` may see them: the rows of households they may
    see, and only a count of the others (or counts alone, for a communicator)."""

    counts: dict[SignupStatus, int]
    taken: int
    visible: list[EventSignup]
    hidden: int
    waiting: list[tuple[int, EventSignup | None]]  # (position, sign-up or None if hidden)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def signup_list(event: Event, user: User, statuses=None) -> SignupList:
    """Counts per status, and the sign-ups of households ``user`` may see (all for a
    coordinator, none for a communicator), oldest first; the waiting list in its order."""
    counts = {status: 0 for status in SignupStatus}
    for status, n in db.session.execute(
        select(EventSignup.status, func.count())
        .where(EventSignup.event_id == event.id)
        .group_by(EventSignup.status)
    ):
        counts[SignupStatus(status)] = n
    stmt = (
        select(EventSignup)
        .join(Household, Household.id == EventSignup.household_id)
        .where(EventSignup.event_id == event.id, household_visible(user))
        .options(selectinload(EventSignup.household))
        .order_by(EventSignup.created_at, EventSignup.id)
    )
    if statuses is not None:
        stmt = stmt.where(EventSignup.status.in_(statuses))
    visible = list(db.session.scalars(stmt)) if user.role != Role.COMMUNICATOR else []
    shown_ids = {s.id for s in visible}
    asked_for = sum(counts[s] for s in (statuses or SignupStatus))
    waiting_ids = db.session.scalars(
        select(EventSignup.id)
        .where(EventSignup.event_id == event.id, EventSignup.status == SignupStatus.WAITLISTED)
        .order_by(EventSignup.created_at, EventSignup.id)
    ).all()
    by_id = {s.id: s for s in visible}
    return SignupList(
        counts=counts,
        taken=places_taken(event),
        visible=visible,
        hidden=asked_for - len(shown_ids),
        waiting=[(n, by_id.get(i)) for n, i in enumerate(waiting_ids, start=1)],
    )


def household_events(household: Household, now: datetime) -> tuple[list, list]:
    """The household's sign-ups (latest event first) and the events it can still be signed
    up for (planned or open, not over, not already on; soonest first), in one query, as
    plain rows of the event (id, name, starts_at …) with its sign-up (signup_id,
    signup_status, people) if there is one: the page's card shows no more of them."""
    rows = (
        db.session.connection()
        .execute(_household_events_statement(), {"household_id": household.id, "now": now})
        .all()
    )
    signups = [row for row in reversed(rows) if row.signup_id is not None]
    choices = [
        row
        for row in rows
        if row.status in SIGNUP_OPEN
        and row.ends_at > now
        and (row.signup_id is None or row.signup_status == SignupStatus.CANCELLED)
    ]
    return signups, choices[:100]


@cache
def _household_events_statement() -> Select:
    """Built once: the household page runs it on every view."""
    signup_open = (Event.status.in_(SIGNUP_OPEN)) & (Event.ends_at > bindparam("now"))
    return (
        select(
            Event.id,
            Event.name,
            Event.starts_at,
            Event.ends_at,
            Event.status,
            EventSignup.id.label("signup_id"),
            EventSignup.status.label("signup_status"),
            EventSignup.people,
        )
        .outerjoin(
            EventSignup,
            (EventSignup.event_id == Event.id)
            & (EventSignup.household_id == bindparam("household_id")),
        )
        .where(EventSignup.id.is_not(None) | signup_open)
        .order_by(Event.starts_at, Event.id)
    )


def waiting_position(signup: EventSignup) -> int:
    """1 for the first on the waiting list."""
    return db.session.scalar(
        select(func.count()).where(
            EventSignup.event_id == signup.event_id,
            EventSignup.status == SignupStatus.WAITLISTED,
            or_(
                EventSignup.created_at < signup.created_at,
                (EventSignup.created_at == signup.created_at) & (EventSignup.id <= signup.id),
            ),
        )
    )
