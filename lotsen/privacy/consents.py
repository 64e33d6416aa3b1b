"""Consents: record, withdraw, and ask whether a purpose may be used now."""

from datetime import datetime
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, exists, select

from lotsen.accounts.models import User
from lotsen.audit.services import audit
from lotsen.extensions import db
from lotsen.households.models import Household
from lotsen.privacy.models import Consent, ConsentHow, LegalBasis, Purpose

PURPOSE_LABELS = {
    Purpose.CONTACT: _l("Contact"),
    Purpose.NEWSLETTER: _l("Newsletter"),
    Purpose.SHARING_WITH_EMPLOYERS: _l("Sharing with employers"),
    Purpose.EVENT_SIGNUP: _l("Event sign-ups"),
}
HOW_LABELS = {
    ConsentHow.FORM: _l("Form"),
    ConsentHow.INTEREST_FORM: _l("Interest form"),
    ConsentHow.IN_PERSON: _l("In person"),
    ConsentHow.EMAIL: _l("E-mail"),
    ConsentHow.PHONE: _l("Phone"),
    ConsentHow.IMPORT: _l("Import"),
    ConsentHow.UNSUBSCRIBE: _l("Unsubscribe link"),
    ConsentHow.EVENT_FORM: _l("Event sign-up page"),
    ConsentHow.CAPTURE: _l("At the stand"),
}
LEGAL_BASIS_LABELS = {
    LegalBasis.PUBLIC_TASK: _l("Public-interest task"),
    LegalBasis.CONSENT: _l("Consent"),
}


class ConsentError(ValueError):
    """A consent rule was broken; the message is shown to the user."""


def _active(purpose: Purpose | str):
    return (Consent.purpose == Purpose(purpose)) & Consent.withdrawn_at.is_(None)


def record_consent(
    household: Household,
    *,
    purpose: Purpose | str,
    text_version: str,
    how: ConsentHow | str,
    at: datetime,
    by: User | None,
    person_id: int | None = None,
) -> Consent:
    """Record a consent as given; a second active one for the same purpose and person is
    refused (withdraw first)."""
    if person_id is not None and person_id not in {p.id for p in household.persons}:
        raise ConsentError(_l("That person is not a member of this household."))
    duplicate = db.session.scalar(
        select(Consent.id).where(
            Consent.household_id == household.id,
            _active(purpose),
            Consent.person_id.is_(None) if person_id is None else Consent.person_id == person_id,
        )
    )
    if duplicate is not None:
        raise ConsentError(_l("There is already an active consent for this purpose."))
    consent = Consent(
        household_id=household.id,
        person_id=person_id,
        purpose=Purpose(purpose),
        text_version=text_version,
        given_at=at,
        given_how=ConsentHow(how),
        given_by_id=by.id if by else None,
    )
    db.session.add(consent)
    db.session.flush()
    audit(
        "consent.create",
        by=by,
        household_id=household.id,
        target=f"consent:{consent.id}",
        changes={"purpose": str(consent.purpose), "how": str(consent.given_how)},
    )
    return consent


def withdraw_consent(
    consent: Consent, *, how: ConsentHow | str, at: datetime, by: User | None
) -> None:
    """Withdraw a consent: from now on the purpose no longer counts it. Logged. ``by`` is
    None when the person withdrew it themselves (the newsletter's unsubscribe link)."""
    if consent.withdrawn_at is not None:
        raise ConsentError(_l("This consent has been withdrawn already."))
    consent.withdrawn_at = at
    consent.withdrawn_how = ConsentHow(how)
    consent.withdrawn_by_id = by.id if by else None
    db.session.flush()
    audit(
        "consent.withdraw",
        by=by,
        household_id=consent.household_id,
        target=f"consent:{consent.id}",
        changes={"purpose": str(consent.purpose), "how": str(consent.withdrawn_how)},
    )


def consents_of(household_id: int) -> list:
    """The household's consents, active ones first, as plain rows: what its page shows."""
    return (
        db.session.connection().execute(_consents_statement(), {"household_id": household_id}).all()
    )


@cache
def _consents_statement() -> Select:
    """Built once: the household page runs it on every view."""
    return (
        select(
            Consent.id,
            Consent.purpose,
            Consent.text_version,
            Consent.given_at,
            Consent.given_how,
            Consent.withdrawn_at,
            Consent.withdrawn_how,
        )
        .where(Consent.household_id == bindparam("household_id"))
        .order_by(Consent.withdrawn_at.is_not(None), Consent.given_at.desc(), Consent.id)
    )


def has_active_consent(household_id: int, purpose: Purpose | str) -> bool:
    """Whether the household has a consent for ``purpose`` that is not withdrawn."""
    return bool(
        db.session.scalar(
            select(exists().where(Consent.household_id == household_id, _active(purpose)))
        )
    )


def with_active_consent(purpose: Purpose | str) -> Select:
    """The ids of households with an active consent for ``purpose``: audiences filter by it,
    ``select(Household).where(Household.id.in_(with_active_consent("newsletter")))``."""
    return (
        select(Consent.household_id)
        .where(_active(purpose))
        .join(Household, Household.id == Consent.household_id)
        .where(Household.anonymised_at.is_(None))
    )


def set_legal_basis(household: Household, basis: LegalBasis | str, by: User) -> None:
    old = household.legal_basis
    household.legal_basis = LegalBasis(basis).value
    db.session.flush()
    if old != household.legal_basis:
        audit(
            "household.update",
            by=by,
            household_id=household.id,
            changes={"legal_basis": [old, household.legal_basis]},
        )
