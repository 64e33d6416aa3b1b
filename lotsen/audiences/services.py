"""Audiences: who a newsletter may go to, by filter, read from the consents at the moment
of asking (a count, an export); the unsubscribe link that withdraws the consent.

Only households with an active newsletter consent, an e-mail address and not anonymised
are members. Nothing is stored per member: an export reads the consents when it runs, so
a withdrawal or an unsubscribe leaves every later export at once.
"""

import csv
import io
from collections.abc import Iterable
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select, and_, case, func, select, true

from lotsen.accounts.models import User
from lotsen.audit import audit
from lotsen.events.models import Audience, EventSignup
from lotsen.events.vocab import SignupStatus
from lotsen.extensions import db
from lotsen.households.models import Household, household_municipality
from lotsen.pipeline.exports import log_export
from lotsen.privacy.consents import with_active_consent, withdraw_consent
from lotsen.privacy.models import Consent, ConsentHow, Purpose
from lotsen.workdays import local_date

FILTER_KEYS = ("municipalities", "countries", "languages", "stages", "events")
# Plain names that newsletter tools (Mailchimp, MailerLite, Brevo, …) map by themselves.
CSV_COLUMNS = ("email", "name", "language", "consent_date")


class AudienceError(ValueError):
    """An audience the rules refuse; the message is shown to the user."""


def clean_filters(raw: dict | None) -> dict[str, list]:
    """Only the known filter keys, each a sorted list of distinct values (event ids as
    ints); empty filters are left out: no filter means everybody."""
    filters: dict[str, list] = {}
    for key in FILTER_KEYS:
        values = (raw or {}).get(key) or []
        if key == "events":
            values = sorted({int(v) for v in values})
        else:
            values = sorted({str(v) for v in values if str(v)})
        if values:
            filters[key] = values
    return filters


def _active_newsletter():
    return (Consent.purpose == Purpose.NEWSLETTER) & Consent.withdrawn_at.is_(None)


def _members() -> list:
    """Who may get the newsletter at all: an active newsletter consent, an e-mail address,
    not anonymised."""
    return [
        Household.id.in_(with_active_consent(Purpose.NEWSLETTER)),
        Household.anonymised_at.is_(None),
        Household.email.is_not(None),
        Household.email != "",
    ]


def _filtered(filters: dict) -> list:
    """SQL conditions on ``Household`` for ``filters``: any of the chosen values within a
    filter, every filter that has values."""
    f = clean_filters(filters)
    conditions = []
    # IN (subquery), not a correlated EXISTS: the ids are gathered once (a hashed subplan on
    # PostgreSQL, an ephemeral index on SQLite), which also works inside the list's CASEs.
    if f.get("municipalities"):
        conditions.append(
            Household.id.in_(
                select(household_municipality.c.household_id).where(
                    household_municipality.c.municipality_code.in_(f["municipalities"])
                )
            )
        )
    if f.get("countries"):
        conditions.append(Household.country.in_(f["countries"]))
    if f.get("languages"):
        conditions.append(Household.language.in_(f["languages"]))
    if f.get("stages"):
        conditions.append(Household.stage.in_(f["stages"]))
    if f.get("events"):
        conditions.append(
            Household.id.in_(
                select(EventSignup.household_id).where(
                    EventSignup.event_id.in_(f["events"]),
                    EventSignup.status == SignupStatus.ATTENDED,
                )
            )
        )
    return conditions


def member_conditions(filters: dict) -> list:
    """SQL conditions on ``Household`` for the members of an audience with ``filters``."""
    return [*_members(), *_filtered(filters)]


def count_members(filters: dict) -> int:
    return db.session.scalar(select(func.count(Household.id)).where(*member_conditions(filters)))


def counts(audiences: Iterable[Audience]) -> dict[int, int]:
    """The members of each audience, counted in one pass over the households that may get
    the newsletter (one query, however many audiences)."""
    audiences = list(audiences)
    if not audiences:
        return {}
    columns = [
        func.coalesce(func.sum(case((and_(true(), *_filtered(a.filters)), 1), else_=0)), 0)
        for a in audiences
    ]
    row = db.session.execute(select(*columns).where(*_members())).one()
    return {a.id: int(n) for a, n in zip(audiences, row, strict=True)}


def members_query(filters: dict) -> Select:
    """E-mail, name, language and the newsletter consent's date (the earliest active one)."""
    given_at = (
        select(func.min(Consent.given_at))
        .where(Consent.household_id == Household.id, _active_newsletter())
        .correlate(Household)
        .scalar_subquery()
    )
    return (
        select(Household.email, Household.name, Household.language, given_at)
        .where(*member_conditions(filters))
        .order_by(Household.id)
    )


def member_rows(filters: dict) -> list[list[str]]:
    """The rows of an export, one per e-mail address (the first household that has it)."""
    rows, seen = [], set()
    for email, name, language, given_at in db.session.execute(members_query(filters)):
        key = email.strip().lower()
        if key in seen:
            continue
        seen.add(key)
        consent_date = local_date(given_at).isoformat() if given_at else ""
        rows.append([email.strip(), name or "", language or "", consent_date])
    return rows


def to_csv(rows: Iterable[list]) -> bytes:
    """Plain UTF-8, comma-separated, a heading row: what newsletter tools import (a BOM
    would end up in the first column's name in some of them)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def export_audience(audience: Audience, by: User) -> tuple[bytes, int]:
    """The audience's members as CSV, and how many; logged (export log and audit)."""
    rows = member_rows(audience.filters)
    logged = {
        "audience_id": audience.id,
        "audience": audience.name,
        **clean_filters(audience.filters),
    }
    log_export(by, "audience", "csv", logged, len(rows))
    return to_csv(rows), len(rows)


def save_audience(
    audience: Audience | None, *, name: str, filters: dict, notes: str | None, by: User
) -> Audience:
    """Create (``audience`` None) or change an audience. Audited."""
    filters = clean_filters(filters)
    if audience is None:
        audience = Audience(name=name, filters=filters, notes=notes, created_by_id=by.id)
        db.session.add(audience)
        db.session.flush()
        audit(
            "audience.create",
            by=by,
            target=f"audience:{audience.id}",
            changes={"name": name, "filters": filters},
        )
        return audience
    changes = {}
    for field, value in (("name", name), ("filters", filters), ("notes", notes)):
        old = getattr(audience, field)
        if old != value:
            changes[field] = [old, value]
            setattr(audience, field, value)
    db.session.flush()
    if changes:
        audit("audience.update", by=by, target=f"audience:{audience.id}", changes=changes)
    return audience


def delete_audience(audience: Audience, by: User) -> None:
    audit(
        "audience.delete",
        by=by,
        target=f"audience:{audience.id}",
        changes={"name": audience.name, "filters": audience.filters},
    )
    db.session.delete(audience)
    db.session.flush()


# -- unsubscribing -----------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="newsletter-unsubscribe")


def unsubscribe_token(household: Household) -> str:
    """A signed token naming the household. It does not expire: a newsletter read a year
    later must still unsubscribe. It names nobody readable (an id, signed)."""
    return _serializer().dumps(household.id)


def household_for(token: str) -> Household | None:
    """The household a token names, or None (tampered, unknown, anonymised)."""
    try:
        household_id = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(household_id, int):
        return None
    household = db.session.get(Household, household_id)
    if household is None or household.anonymised_at is not None:
        return None
    return household


def unsubscribe_url(household: Household) -> str:
    """The link for a newsletter (body and ``List-Unsubscribe`` header, RFC 8058: the same
    URL takes the one-click POST)."""
    from lotsen.mail import external_url

    return external_url("newsletter.unsubscribe", token=unsubscribe_token(household))


def active_newsletter_consents(household: Household) -> list[Consent]:
    return list(
        db.session.scalars(
            select(Consent).where(Consent.household_id == household.id, _active_newsletter())
        )
    )


def unsubscribe(household: Household, at: datetime) -> int:
    """Withdraw every active newsletter consent of the household (how: the unsubscribe
    link, by nobody on the staff). Returns how many were withdrawn (0: already out)."""
    consents = active_newsletter_consents(household)
    for consent in consents:
        withdraw_consent(consent, how=ConsentHow.UNSUBSCRIBE, at=at, by=None)
    return len(consents)
