"""Lead capture at the stand: one capture becomes a household (or finds its own), its
consents, a sign-up marked attended and a timeline note — once per client key.

The capturing phone makes the key (``crypto.randomUUID``) and may send a capture many
times (the network dropped before the answer came back). The key is claimed first, with
``INSERT … ON CONFLICT DO NOTHING`` inside a savepoint: a resend, or the same capture in
two requests at once, finds the key taken and is acknowledged without a second household
(on PostgreSQL the second insert waits for the first transaction and then does nothing;
SQLite's writers take turns). A capture that fails half-way rolls back its own savepoint,
key included, and the others of the batch are kept.
"""

import enum
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lotsen import clock
from lotsen.accounts.models import User
from lotsen.audit import audit
from lotsen.events.models import Event, LeadCapture
from lotsen.events.signups import place, set_status, signup_of
from lotsen.events.vocab import EventStatus, EventType, SignupChannel, SignupStatus
from lotsen.extensions import db
from lotsen.households.milestones import refresh_milestones
from lotsen.households.models import Household
from lotsen.households.services import HouseholdData, add_note, create_household
from lotsen.households.vocab import Source
from lotsen.interest.services import (
    PRIVACY_VERSION,
    _guide_of,
    household_with_email,
    household_with_phone,
    welcome_new_household,
)
from lotsen.privacy.consents import has_active_consent, record_consent
from lotsen.privacy.models import ConsentHow, Purpose


class Outcome(enum.StrEnum):
    NEW = "new"  # a new household
    ATTACHED = "attached"  # the household with this e-mail address
    DUPLICATE = "duplicate"  # this key was stored before: nothing done again


@dataclass
class Lead:
    """What the guide's screen captured (already checked by the form)."""

    key: str
    name: str
    captured_at: datetime
    email: str | None = None
    phone: str | None = None
    country: str | None = None
    language: str | None = None
    municipalities: list[str] = field(default_factory=list)
    notes: str | None = None
    newsletter: bool = False  # the contact consent is required: a lead without it is refused


def capturable(event: Event) -> bool:
    """A cancelled event takes no leads; a held one still does (the queue may come later)."""
    return event.status != EventStatus.CANCELLED


def leads_at(event: Event) -> int:
    return db.session.scalar(
        select(func.count()).select_from(LeadCapture).where(LeadCapture.event_id == event.id)
    )


@cache
def claim_statement(dialect: str):
    """``INSERT`` a key's row unless the key is taken, ``RETURNING`` its id (none then).
    Built once per dialect; the values are the execution's parameters."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(LeadCapture)
        .on_conflict_do_nothing(index_elements=["client_key"])
        .returning(LeadCapture.id)
    )


def _claim(lead: Lead, event: Event, by: User | None, now: datetime) -> int | None:
    """Insert the key's row; None when the key is taken (a resend)."""
    values = {
        "client_key": lead.key,
        "event_id": event.id,
        "captured_at": lead.captured_at,
        "received_at": now,
        "by_id": by.id if by else None,
        "household_id": None,
    }
    return db.session.execute(claim_statement(db.session.get_bind().dialect.name), values).scalar()


def stored_keys(keys: list[str]) -> set[str]:
    """The keys among ``keys`` stored before: a resent batch is answered without work."""
    if not keys:
        return set()
    return set(
        db.session.scalars(select(LeadCapture.client_key).where(LeadCapture.client_key.in_(keys)))
    )


def _primary(lead: Lead, event: Event) -> str | None:
    """The one municipality chosen; else the event's only one, when it is among the chosen
    (or nothing was chosen); else "not sure yet"."""
    if len(lead.municipalities) == 1:
        return lead.municipalities[0]
    codes = event.municipality_codes
    if len(codes) == 1:
        (only,) = codes
        if not lead.municipalities or only in lead.municipalities:
            return only
    return None


def _household_data(lead: Lead, event: Event, primary: str | None) -> HouseholdData:
    first, _sep, last = lead.name.partition(" ")
    return HouseholdData(
        fields={
            "name": lead.name[:160],
            "email": lead.email,
            "phone": lead.phone,
            "country": lead.country,
            "language": lead.language,
            "primary_municipality_code": primary,
            "source": Source.FAIR if event.kind == EventType.FAIR else Source.EVENT,
            "source_detail": event.name[:200],
        },
        persons=[{"kind": "adult", "first_name": first[:80], "last_name": last[:80] or None}],
        other_municipalities=[c for c in lead.municipalities if c != primary],
        tags=[],
    )


def _attend(event: Event, household: Household, by: User | None, now: datetime, new: bool) -> None:
    """At the stand means there: a new sign-up is made as attended at once (one timeline
    entry, no place to wait for: the visitor came, whatever the capacity or the event's
    status); an existing one (the public page, a guide) is marked attended."""
    signup = None if new else signup_of(event, household)
    if signup is not None and signup.status != SignupStatus.CANCELLED:
        set_status(signup, SignupStatus.ATTENDED, by=by, now=now)
        return
    place(
        event,
        household,
        status=SignupStatus.ATTENDED,
        channel=SignupChannel.CAPTURE,
        by=by,
        now=now,
        signup=signup,
    )


def _consents(household: Household, lead: Lead, by: User | None, new: bool) -> None:
    wanted = [Purpose.CONTACT] + ([Purpose.NEWSLETTER] if lead.newsletter else [])
    for purpose in wanted:
        if new or not has_active_consent(household.id, purpose):
            record_consent(
                household,
                purpose=purpose,
                text_version=PRIVACY_VERSION,
                how=ConsentHow.CAPTURE,
                at=lead.captured_at,
                by=by,
            )


def record_lead(
    event: Event,
    lead: Lead,
    *,
    by: User | None,
    now: datetime | None = None,
    guides: dict | None = None,
    created: list[int] | None = None,
) -> tuple[Outcome, int | None]:
    """Store one capture, once per key: the outcome and the household's id.

    Duplicate rule (the interest form's, with one difference stated): the same e-mail
    address attaches the capture to that household — the guide saw the person, as the
    confirmation link proves it for the form. The same phone number alone is only a hint:
    a new household with a "possible duplicate" entry. Existing households keep their
    details; the capture adds consents not yet active, the sign-up and the note."""
    now = now or clock.now()
    with db.session.begin_nested():
        lead_id = _claim(lead, event, by, now)
        if lead_id is None:
            return Outcome.DUPLICATE, None
        household = household_with_email(lead.email) if lead.email else None
        if household is not None:
            outcome = Outcome.ATTACHED
        else:
            outcome = Outcome.NEW
            same_phone = household_with_phone(lead.phone)
            primary = _primary(lead, event)
            guides = {} if guides is None else guides
            if primary not in guides:
                guides[primary] = _guide_of(primary)
            household = create_household(
                _household_data(lead, event, primary),
                by=by,
                guide=guides[primary],
                at=now,
                refresh=created is None,
            )
            if created is not None:
                created.append(household.id)
            welcome_new_household(household, lead.phone, same_phone, now)
        _consents(household, lead, by, new=outcome == Outcome.NEW)
        _attend(event, household, by, now, new=outcome == Outcome.NEW)
        if lead.notes:
            add_note(household, lead.notes, by)
        db.session.execute(
            update(LeadCapture).where(LeadCapture.id == lead_id).values(household_id=household.id)
        )
        audit(
            "event.capture",
            by=by,
            household_id=household.id,
            target=f"event:{event.id}",
            changes={"key": lead.key, "outcome": str(outcome)},
        )
    return outcome, household.id


def record_leads(
    event: Event, leads: list[Lead], *, by: User | None, now: datetime | None = None
) -> list[tuple[Outcome, int | None] | ValueError]:
    """``record_lead`` for a batch from the phone's queue: each capture in its own savepoint
    (a refused one is returned as its error, the others are kept), the guide of each
    municipality looked up once, and the new households' milestone rows computed in one
    statement at the end instead of one per household."""
    now = now or clock.now()
    guides: dict = {}
    created: list[int] = []
    results: list[tuple[Outcome, int | None] | ValueError] = []
    for lead in leads:
        try:
            results.append(record_lead(event, lead, by=by, now=now, guides=guides, created=created))
        except ValueError as exc:  # a rule refused it (ConsentError …): this one only
            results.append(exc)
    refresh_milestones(created)
    return results
