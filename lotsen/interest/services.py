"""Interest submissions: store, confirm (double opt-in), de-duplicate, route to a guide."""

import secrets
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select

from lotsen import clock
from lotsen.accounts.models import Role, User
from lotsen.extensions import db
from lotsen.followups.rules import apply_rule
from lotsen.households.models import Household, HouseholdEvent
from lotsen.households.services import HouseholdData, create_household
from lotsen.households.vocab import EventKind, InterestStatus, Source
from lotsen.interest.models import InterestSubmission
from lotsen.jobs import job
from lotsen.mail import compose_mail, send_mail, send_mails
from lotsen.privacy.consents import has_active_consent, record_consent
from lotsen.privacy.models import ConsentHow, Purpose

PRIVACY_VERSION = "2026-11-26"
COMPARED = (
    "phone",
    "country",
    "town",
    "language",
    "primary_municipality_code",
    "housing_tenure",
    "housing_type",
    "housing_needs",
    "timeframe_code",
)


class ConfirmationError(ValueError):
    """The link is not valid (forged, or for nothing)."""


class ConfirmationExpired(ConfirmationError):
    """The link is older than INTEREST_CONFIRM_DAYS."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="interest-confirm")


def store_submission(
    data: dict, *, locale: str, now: datetime, event_id: int | None = None
) -> tuple[InterestSubmission, str]:
    """Store a pending submission (the interest form's, or an event sign-up's with
    ``event_id``); returns it and the signed token of its confirmation link."""
    submission = InterestSubmission(
        status=InterestStatus.PENDING,
        nonce=secrets.token_hex(16),
        locale=locale,
        email=data["email"],
        phone=data.get("phone"),
        data=data,
        privacy_version=PRIVACY_VERSION,
        consent_at=now,
        created_at=now,
        event_id=event_id,
    )
    db.session.add(submission)
    db.session.flush()
    return submission, _serializer().dumps({"id": submission.id, "n": submission.nonce})


def submit(data: dict, *, locale: str, now: datetime) -> InterestSubmission:
    """Store a submission and queue the confirmation e-mail in the visitor's language."""
    submission, token = store_submission(data, locale=locale, now=now)
    send_mail(
        "confirm",
        to=submission.email,
        locale=locale,
        key=f"confirm:{submission.id}",
        now=now,
        first_name=data["first_name"],
        token=token,
        days=current_app.config["INTEREST_CONFIRM_DAYS"],
    )
    return submission


def submission_for(token: str, *, event: bool = False) -> InterestSubmission:
    """The submission a confirmation link names: an interest form's, or with ``event`` an
    event sign-up's (one kind's link does not work on the other's page)."""
    max_age = current_app.config["INTEREST_CONFIRM_DAYS"] * 24 * 3600
    try:
        payload = _serializer().loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise ConfirmationExpired from exc
    except BadSignature as exc:
        raise ConfirmationError from exc
    submission = db.session.get(InterestSubmission, payload.get("id"))
    if submission is None or submission.nonce != payload.get("n"):
        raise ConfirmationError
    if (submission.event_id is not None) != event:
        raise ConfirmationError
    return submission


def household_with_email(email: str) -> Household | None:
    """The household with this (normalised) e-mail address: a confirmed submission from it
    comes from the family, whose address it is."""
    return db.session.scalars(
        select(Household).where(Household.email == email.lower()).order_by(Household.id)
    ).first()


def household_with_phone(phone: str | None) -> Household | None:
    """A household with this phone number. Anyone can type a number: a match is only a hint."""
    if not phone:
        return None
    return db.session.scalars(
        select(Household).where(Household.phone == phone).order_by(Household.id)
    ).first()


def _guide_of(code: str | None) -> User | None:
    if code is None:
        return None
    return db.session.scalars(
        select(User)
        .where(User.role == Role.GUIDE, User.active.is_(True), User.municipality_code == code)
        .order_by(User.id)
    ).first()


def household_data(data: dict) -> HouseholdData:
    year = clock.today().year
    persons = [
        {
            "kind": "adult",
            "first_name": data["first_name"],
            "last_name": data["last_name"],
            "occupation": data.get("occupation"),
            "seeks_job": data.get("seeks_job"),
        }
    ]
    if data.get("partner_name") or data.get("partner_occupation"):
        persons.append(
            {
                "kind": "adult",
                "first_name": data.get("partner_name") or "?",
                "last_name": data["last_name"],
                "occupation": data.get("partner_occupation"),
                "seeks_job": data.get("partner_seeks_job"),
            }
        )
    for age in data.get("children", []):
        persons.append(
            {
                "kind": "child",
                "first_name": "?",
                "last_name": data["last_name"],
                "birth_year": year - age,
            }
        )
    name = (
        f"Familjen {data['last_name']}"
        if len(persons) > 1
        else f"{data['first_name']} {data['last_name']}"
    )
    return HouseholdData(
        fields={
            "name": name[:160],
            "email": data["email"],
            "phone": data.get("phone"),
            "country": data.get("country"),
            "town": data.get("town"),
            "language": data.get("language"),
            "primary_municipality_code": data.get("primary"),
            "housing_tenure": data.get("housing_tenure"),
            "housing_type": data.get("housing_type"),
            "housing_needs": data.get("housing_wishes"),
            "timeframe_code": data.get("timeframe") or None,  # a code: each reader's language
            "timeframe": None,
            "source": data.get("source") or Source.INTEREST_FORM,
            "source_detail": "Intresseformulär",
            "notes": None,
        },
        persons=persons,
        other_municipalities=data.get("others", []),
        tags=[],
    )


def staff_to_tell(household: Household) -> list[User]:
    """Who hears of a new or returning visitor: the household's guide, else the coordinators."""
    if household.guide:
        return [household.guide]
    return list(
        db.session.scalars(select(User).where(User.role == Role.COORDINATOR, User.active.is_(True)))
    )


def new_household(
    submission: InterestSubmission, fields: HouseholdData, now: datetime, *, message: bool = True
) -> tuple[Household, Household | None]:
    """A household for a confirmed submission whose e-mail address no household has; the
    same phone number alone is no proof, so a match gives a "possible duplicate" entry.
    Returns the household and the one with the same phone (or None)."""
    same_phone = household_with_phone(submission.phone)
    guide = _guide_of(fields.fields["primary_municipality_code"])
    household = create_household(fields, by=None, guide=guide, at=now)
    if message:
        db.session.add(
            HouseholdEvent(
                household_id=household.id,
                kind=EventKind.INTEREST_MESSAGE,
                text=submission.data.get("message") or None,
                data={"submission": submission.id, "email": submission.email},
                at=now,
            )
        )
    welcome_new_household(household, submission.phone, same_phone, now)
    return household, same_phone


def welcome_new_household(
    household: Household, phone: str | None, same_phone: Household | None, now: datetime
) -> None:
    """What a household made from a mover's own details gets (the form, an event sign-up, a
    capture at the stand): a "possible duplicate" entry when another household has the same
    phone number, and the first-contact rule (unless a coordinator switched it off)."""
    if same_phone is not None:
        db.session.add(
            HouseholdEvent(
                household_id=household.id,
                kind=EventKind.POSSIBLE_DUPLICATE,
                data={"of_id": same_phone.id, "phone": phone},
                at=now,
            )
        )
    apply_rule("first_contact", household, now)


def _notify_staff(
    household: Household,
    submission: InterestSubmission,
    now: datetime,
    updated: bool,
    same_phone: Household | None = None,
) -> None:
    """Tell the guide (or the coordinators) — in words that say who confirmed what: the
    visitor is known only by the e-mail address they confirmed."""
    recipients = staff_to_tell(household)
    send_mails(
        (
            compose_mail(
                "interest",
                to=user.email,
                locale=user.locale,
                key=f"interest:{submission.id}:{user.id}",
                user_id=user.id,
                user=user,
                household=household,
                updated=updated,
                email=submission.email,
                same_phone=same_phone,
            )
            for user in recipients
        ),
        now,
    )


def confirm(submission: InterestSubmission, now: datetime) -> tuple[Household, bool]:
    """Turn a confirmed submission into a household, or attach it to the existing one with
    the same e-mail address — the address the visitor just confirmed (a timeline entry lists
    what differs, for the guide to review). The same phone number alone is no proof: that
    gives a new household marked as a possible duplicate. Returns the household and whether
    it was an existing one. Confirming twice is a no-op."""
    if submission.status == InterestStatus.CONFIRMED:
        return db.session.get(Household, submission.household_id), True
    data = submission.data
    proposed = household_data(data)
    existing = household_with_email(submission.email)
    same_phone = None
    if existing is not None:
        changes = {
            name: {"was": str(getattr(existing, name) or ""), "form": str(value)}
            for name, value in proposed.fields.items()
            if name in COMPARED and value and value != getattr(existing, name)
        }
        db.session.add(
            HouseholdEvent(
                household_id=existing.id,
                kind=EventKind.INTEREST_AGAIN,
                at=now,
                text=data.get("message") or None,
                data={
                    "submission": submission.id,
                    "email": submission.email,
                    "changes": changes,
                },
            )
        )
        household, updated = existing, True
    else:
        household, same_phone = new_household(submission, proposed, now)
        updated = False
    submission.status = InterestStatus.CONFIRMED
    submission.confirmed_at = now
    submission.household_id = household.id
    db.session.flush()
    if not has_active_consent(household.id, Purpose.CONTACT):  # the consent table's record
        record_consent(
            household,
            purpose=Purpose.CONTACT,
            text_version=submission.privacy_version,
            how=ConsentHow.INTEREST_FORM,
            at=now,
            by=None,
        )
    _notify_staff(household, submission, now, updated, same_phone)
    return household, updated


@job("purge-unconfirmed")
def purge_unconfirmed(now: datetime) -> int:
    """Delete submissions nobody confirmed within INTEREST_CONFIRM_DAYS days."""
    cutoff = now - timedelta(days=current_app.config["INTEREST_CONFIRM_DAYS"])
    deleted = db.session.execute(
        delete(InterestSubmission)
        .where(
            InterestSubmission.status == InterestStatus.PENDING,
            InterestSubmission.created_at < cutoff,
        )
        .returning(InterestSubmission.id)
        .execution_options(synchronize_session=False)
    )
    return len(deleted.all())
