"""Public sign-up with double opt-in: store the form as an interest submission with its
event, confirm it (the interest form's duplicate check, consents, the sign-up), mail the
person (confirmation with the .ics invitation, waiting list, a freed place), and cancel by
the signed link in those mails. Services: they only flush."""

from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from lotsen.accounts.models import User
from lotsen.events.ics import invitation_attachment, place_text, when_text, zone_text
from lotsen.events.models import Event, EventSignup
from lotsen.events.signups import set_status, sign_up
from lotsen.events.vocab import EventStatus, EventType, SignupChannel, SignupStatus
from lotsen.extensions import db
from lotsen.households.models import Household
from lotsen.households.vocab import InterestStatus, Source
from lotsen.interest.models import InterestSubmission
from lotsen.interest.services import (
    household_data,
    household_with_email,
    new_household,
    staff_to_tell,
    store_submission,
)
from lotsen.mail import compose_mail, send_mail, send_mails
from lotsen.privacy.consents import has_active_consent, record_consent
from lotsen.privacy.models import ConsentHow, Purpose


class SignupClosed(ValueError):
    """The event no longer takes sign-ups (closed, held or cancelled since the form)."""


class CancelError(ValueError):
    """A cancel link that names nothing (forged, or for an earlier sign-up)."""


def submit_signup(event: Event, data: dict, *, locale: str, now: datetime) -> InterestSubmission:
    """Store the form and queue the confirmation link; nothing is signed up yet."""
    submission, token = store_submission(data, locale=locale, now=now, event_id=event.id)
    send_mail(
        "event_confirm",
        to=submission.email,
        locale=locale,
        key=f"event-confirm:{submission.id}",
        now=now,
        first_name=data["first_name"],
        token=token,
        days=current_app.config["INTEREST_CONFIRM_DAYS"],
        **event_context(event, locale),
    )
    return submission


def confirmed_signup(submission: InterestSubmission) -> EventSignup | None:
    """The sign-up a confirmed submission made (None before it is confirmed)."""
    if submission.household_id is None:
        return None
    return db.session.scalar(
        select(EventSignup).where(
            EventSignup.event_id == submission.event_id,
            EventSignup.household_id == submission.household_id,
        )
    )


def confirm_signup(submission: InterestSubmission, now: datetime) -> EventSignup:
    """The person confirmed their address: find or create the household (the interest
    form's duplicate check: attach only to the household with this confirmed e-mail
    address), record the consents, sign up (a place or the waiting list) and mail the
    answer. Confirming twice returns the first sign-up and does nothing more."""
    if submission.status == InterestStatus.CONFIRMED:
        return confirmed_signup(submission)
    event = db.session.get(Event, submission.event_id)
    if event.status != EventStatus.OPEN:
        raise SignupClosed(event.status)
    data = submission.data
    household = household_with_email(submission.email)
    same_phone = None
    if household is None:
        fields = household_data(data)
        fields.fields["source_detail"] = event.name[:200]
        household, same_phone = new_household(submission, fields, now, message=False)
        _tell_staff(household, event, submission, same_phone, now)
    submission.status, submission.confirmed_at = InterestStatus.CONFIRMED, now
    submission.household_id = household.id
    db.session.flush()
    purposes = [Purpose.CONTACT, Purpose.EVENT_SIGNUP]
    if data.get("newsletter"):
        purposes.append(Purpose.NEWSLETTER)
    for purpose in purposes:
        if not has_active_consent(household.id, purpose):
            record_consent(
                household,
                purpose=purpose,
                text_version=submission.privacy_version,
                how=ConsentHow.EVENT_FORM,
                at=now,
                by=None,
            )
    signup = sign_up(
        event, household, channel=SignupChannel.PUBLIC, by=None, people=data["people"], now=now
    )
    mail_signup(signup, now, locale=submission.locale)
    return signup


def _tell_staff(
    household: Household,
    event: Event,
    submission: InterestSubmission,
    same_phone: Household | None,
    now: datetime,
) -> None:
    send_mails(
        (
            compose_mail(
                "event_staff",
                to=user.email,
                locale=user.locale,
                key=f"event-staff:{submission.id}:{user.id}",
                user_id=user.id,
                user=user,
                household=household,
                event=event,
                email=submission.email,
                same_phone=same_phone,
            )
            for user in staff_to_tell(household)
        ),
        now,
    )


def source_of(event: Event) -> Source:
    return Source.FAIR if event.kind == EventType.FAIR else Source.EVENT


def event_context(event: Event, locale: str) -> dict:
    """What every participant mail shows of the event, in ``locale``."""
    return {
        "event": event,
        "when": when_text(event, locale),
        "zone": zone_text(event),
        "place": place_text(event, locale),
    }


def locale_of(household: Household, fallback: str | None = None) -> str:
    """The language to write to the household in: its own, else ``fallback``, else
    Swedish for Sweden and English for anyone abroad."""
    languages = current_app.config["PUBLIC_LANGUAGES"]
    if household.language in languages:
        return household.language
    if fallback in languages:
        return fallback
    return "sv" if household.country in (None, "SE") else "en"


def _stamp(moment: datetime) -> int:
    return int(moment.timestamp())


def _cancel_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="event-cancel")


def cancel_token(signup: EventSignup) -> str:
    """The cancel link's token: names this sign-up as made at ``created_at`` (a later
    sign-up of the same household needs its own link)."""
    return _cancel_serializer().dumps({"s": signup.id, "t": _stamp(signup.created_at)})


def signup_for_cancel(token: str) -> EventSignup:
    try:
        payload = _cancel_serializer().loads(token)
    except BadSignature as exc:
        raise CancelError from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), int):
        raise CancelError
    signup = db.session.get(EventSignup, payload["s"])
    if signup is None or _stamp(signup.created_at) != payload.get("t"):
        raise CancelError
    return signup


def may_cancel(signup: EventSignup, now: datetime) -> bool:
    return (
        signup.status in (SignupStatus.REGISTERED, SignupStatus.WAITLISTED)
        and signup.event.status not in (EventStatus.CANCELLED, EventStatus.HELD)
        and signup.event.starts_at > now
    )


def cancel_signup(
    signup: EventSignup, now: datetime, *, by: User | None = None
) -> list[EventSignup]:
    """Cancel (the person through their link, or ``by`` staff): the place goes to the
    waiting list, and each person who got one is mailed. Returns those promoted."""
    if not may_cancel(signup, now):
        return []
    waiting = set(
        db.session.scalars(
            select(EventSignup.id).where(
                EventSignup.event_id == signup.event_id,
                EventSignup.status == SignupStatus.WAITLISTED,
            )
        )
    )
    set_status(signup, SignupStatus.CANCELLED, by=by, now=now)
    promoted = list(
        db.session.scalars(
            select(EventSignup).where(
                EventSignup.id.in_(waiting), EventSignup.status == SignupStatus.REGISTERED
            )
        )
    )
    notify_promoted(promoted, now)
    return promoted


def notify_promoted(promoted: list[EventSignup], now: datetime) -> None:
    """Tell each person moved up from the waiting list that they have a place (for any
    caller of ``signups.set_status`` that frees places)."""
    for signup in promoted:
        mail_signup(signup, now, promoted=True)


def notify_cancelled(event: Event, now: datetime) -> int:
    """Tell everyone still signed up or waiting that ``event`` is cancelled, each once
    (outbox key). Their sign-ups stay as they were: they did sign up."""
    signups = db.session.scalars(
        select(EventSignup).where(
            EventSignup.event_id == event.id,
            EventSignup.status.in_((SignupStatus.REGISTERED, SignupStatus.WAITLISTED)),
        )
    ).all()
    sent = 0
    for signup in signups:
        household = db.session.get(Household, signup.household_id)
        if not household.email or household.anonymised_at is not None:
            continue
        locale = locale_of(household)
        send_mail(
            "event_cancelled",
            to=household.email,
            locale=locale,
            key=f"event-cancelled:{signup.id}",
            now=now,
            **event_context(event, locale),
        )
        sent += 1
    return sent


def mail_signup(
    signup: EventSignup, now: datetime, *, locale: str | None = None, promoted: bool = False
) -> bool:
    """The person's answer: a place (with the .ics invitation), the waiting list (no
    invitation), or a place that freed up. Each once (outbox key)."""
    household = db.session.get(Household, signup.household_id)
    if not household.email:
        return False
    locale = locale_of(household, locale)
    if promoted:
        template, key = "event_place", f"event-place:{signup.id}:{_stamp(signup.status_changed_at)}"
    elif signup.status == SignupStatus.WAITLISTED:
        template, key = "event_waitlisted", f"event-signup:{signup.id}:{_stamp(signup.created_at)}"
    else:
        template, key = "event_registered", f"event-signup:{signup.id}:{_stamp(signup.created_at)}"
    attachments = None
    if signup.status == SignupStatus.REGISTERED:
        attachments = [invitation_attachment(signup, locale, now)]
    return send_mail(
        template,
        to=household.email,
        locale=locale,
        key=key,
        now=now,
        attachments=attachments,
        signup=signup,
        cancel=cancel_token(signup),
        **event_context(signup.event, locale),
    )
