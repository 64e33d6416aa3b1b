"""The public sign-up page of an event: languages, double opt-in, capacity and waiting list,
the confirmation e-mail with its .ics invitation, the cancel link, the reminder the day
before, closed and cancelled events, bad and hostile input."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from lotsen.clock import ZONE
from lotsen.clock import now as utcnow
from lotsen.events.models import Event, EventSignup
from lotsen.events.reminders import send_event_reminders
from lotsen.events.signups import set_status
from lotsen.events.vocab import EventStatus, EventType, SignupStatus
from lotsen.extensions import db, limiter
from lotsen.followups.models import FollowUp
from lotsen.households.models import Household, HouseholdEvent
from lotsen.interest.forms import started_token
from lotsen.interest.models import InterestSubmission
from lotsen.notifications.models import OutboxMessage
from lotsen.notifications.services import dispatch_outbox
from lotsen.privacy.models import Consent
from lotsen.regions.models import Municipality
from tests import factories

STARTS = datetime(2026, 12, 12, 9, 0, tzinfo=UTC)  # Saturday 10:00 in Sweden (CET)


@pytest.fixture
def public(app, monkeypatch):
    """The form without its minimum fill time (tests that need it set it back)."""
    monkeypatch.setitem(app.config, "INTEREST_MIN_FILL_SECONDS", 0)
    limiter.reset()
    yield
    limiter.reset()


def make_event(slug="emigratiebeurs", status=EventStatus.OPEN, capacity=None, **fields):
    values = {
        "name": "Emigratiebeurs Houten",
        "kind": EventType.FAIR,
        "starts_at": STARTS,
        "ends_at": STARTS + timedelta(hours=7),
        "place": "Expo Houten",
        "country": "NL",
        "descriptions": {
            "sv": "Träffa lotsarna i vår monter.",
            "en": "Meet the guides at our stand.",
            "nl": "Kom langs bij onze stand.",
        },
    } | fields
    event = Event(slug=slug, status=status, capacity=capacity, **values)
    event.municipalities = [db.session.get(Municipality, factories.NORSJO)]
    db.session.add(event)
    db.session.commit()
    return event


def form_data(**overrides):
    data = {
        "first_name": "Sanne",
        "last_name": "de Vries",
        "email": "Sanne@Example.NL",
        "phone": "06 12345678",
        "people": "2",
        "country": "NL",
        "language": "nl",
        "consent": "y",
        "privacy_version": "2026-11-26",
        "started": started_token(),
    } | overrides
    return {k: v for k, v in data.items() if v is not None}


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def mails_to(smtp, address):
    return [m for m in smtp.messages if m["To"] == address]


def path_of(link: str) -> str:
    return link.split("127.0.0.1:5000")[1]


def link_in(mail, kind: str) -> str:
    body = mail.get_body(("plain",)).get_content()
    return path_of(re.search(rf"http://\S+/events/{kind}/\S+", body).group(0))


def sign_up_and_confirm(client, smtp, event, lang="en", **overrides):
    """The whole double opt-in; returns the person's mails."""
    data = form_data(**overrides)
    response = client.post(f"/events/{event.slug}?lang={lang}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    dispatch_outbox(utcnow())
    email = data["email"].lower()
    path = link_in(mails_to(smtp, email)[-1], "confirm")
    page = client.post(path)
    assert page.status_code == 200
    dispatch_outbox(utcnow())
    return mails_to(smtp, email), page.get_data(as_text=True)


def ics_of(mail) -> Calendar:
    parts = [p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    assert parts[0].get_filename().endswith(".ics")
    return Calendar.from_ical(parts[0].get_content())


def test_page_speaks_the_readers_language_and_says_the_time_zone(client, make_client, public):
    make_event(descriptions={"sv": "Träffa lotsarna.", "nl": "Kom langs bij onze stand."})
    page = client.get("/events/emigratiebeurs?lang=nl").get_data(as_text=True)
    assert '<html lang="nl">' in page and "Kom langs bij onze stand." in page
    assert "Emigratiebeurs Houten" in page and "Expo Houten" in page and "Nederland" in page
    assert "zaterdag 12 december 2026, 10:00–17:00" in page and "CET" in page
    english = make_client().get("/events/emigratiebeurs", headers={"Accept-Language": "en"})
    text = english.get_data(as_text=True)
    assert "Träffa lotsarna." in text  # no English text: the Swedish one
    assert "Saturday, December 12, 2026" in text and "Swedish time, CET" in text
    assert "Fair" in text and "Sign up" in text
    assert "<script" not in text  # no JavaScript needed


def test_nothing_is_signed_up_until_the_link_is_confirmed(client, region, public, smtp):
    event = make_event()
    response = client.post("/events/emigratiebeurs?lang=en", data=form_data(newsletter="y"))
    assert response.status_code == 302 and "/events/emigratiebeurs/sent" in response.location
    assert count(Household) == 0 and count(EventSignup) == 0
    submission = db.session.scalars(select(InterestSubmission)).one()
    assert (submission.event_id, submission.status, submission.email) == (
        event.id,
        "pending",
        "sanne@example.nl",
    )
    dispatch_outbox(utcnow())
    mail = mails_to(smtp, "sanne@example.nl")[-1]
    assert "Please confirm your sign-up: Emigratiebeurs Houten" in str(mail["Subject"])
    path = link_in(mail, "confirm")
    assert "Confirm" in client.get(path).get_data(as_text=True)
    assert count(Household) == 0  # a GET (a link scanner) confirms nothing
    # the interest form's page does not take an event's link, nor the other way round
    assert client.post(path.replace("/events/confirm/", "/interest/confirm/")).status_code == 404
    assert count(Household) == 0

    page = client.post(path).get_data(as_text=True)
    assert "You are signed up for Emigratiebeurs Houten" in page
    household = db.session.scalars(select(Household)).one()
    assert (household.name, household.email, household.phone) == (
        "Sanne de Vries",
        "sanne@example.nl",
        "+31612345678",
    )
    assert (household.source, household.source_detail, household.first_event_id) == (
        "fair",
        "Emigratiebeurs Houten",
        event.id,
    )
    assert household.guide_id == region.norsjo_guide.id  # the event's one municipality
    signup = db.session.scalars(select(EventSignup)).one()
    assert (signup.status, signup.channel, signup.people) == ("registered", "public", 2)
    consents = db.session.scalars(select(Consent).order_by(Consent.purpose)).all()
    assert [(c.purpose, c.given_how, c.text_version) for c in consents] == [
        ("contact", "event_form", "2026-11-26"),
        ("event_signup", "event_form", "2026-11-26"),
        ("newsletter", "event_form", "2026-11-26"),
    ]
    assert count(FollowUp) == 1  # the guide's first contact, as for the interest form
    staff = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "event_staff"))
    assert [m.to_address for m in staff] == [region.norsjo_guide.email]

    # confirming twice does nothing twice
    again = client.post(path).get_data(as_text=True)
    assert "You had confirmed this already." in again
    dispatch_outbox(utcnow())
    assert count(Household) == 1 and count(EventSignup) == 1 and count(Consent) == 3
    assert len(mails_to(smtp, "sanne@example.nl")) == 2  # the link, then the confirmation


def test_confirmation_mail_carries_the_ics_invitation(client, region, public, smtp):
    event = make_event(online_url=None)
    mails, _ = sign_up_and_confirm(client, smtp, event, lang="de", language="de")
    mail = mails[-1]
    assert str(mail["Subject"]).startswith("Sie sind angemeldet")
    body = mail.get_body(("plain",)).get_content()
    assert "Samstag, 12. Dezember 2026" in body and "/events/cancel/" in body
    cal = ics_of(mail)
    assert cal["METHOD"] == "PUBLISH"
    entry = cal.walk("VEVENT")[0]
    signup = db.session.scalars(select(EventSignup)).one()
    assert str(entry["UID"]).startswith(f"event-{event.id}-signup-{signup.id}@")
    assert entry.decoded("DTSTART") == STARTS
    assert entry.decoded("DTSTART").astimezone(ZONE).hour == 10  # 10:00 Swedish time
    assert entry.decoded("DTEND") == STARTS + timedelta(hours=7)
    assert str(entry["SUMMARY"]) == "Emigratiebeurs Houten"
    assert str(entry["LOCATION"]) == "Expo Houten, Niederlande"
    assert "/events/emigratiebeurs" in str(entry["URL"])
    assert "Träffa lotsarna" in str(entry["DESCRIPTION"])  # no German text: the Swedish one


def test_capacity_waiting_list_and_cancel_link_promotes(client, region, public, smtp):
    event = make_event(capacity=3)
    assert "3 places left." in client.get("/events/emigratiebeurs?lang=en").get_data(as_text=True)
    first, _ = sign_up_and_confirm(
        client, smtp, event, email="a@example.org", people="2", language="en"
    )
    page = client.get("/events/emigratiebeurs?lang=en").get_data(as_text=True)
    assert "1 place left." in page
    second, page = sign_up_and_confirm(
        client, smtp, event, email="b@example.org", phone=None, people="2", language="en"
    )
    assert "you are on the waiting list" in page
    assert "You are on the waiting list" in str(second[-1]["Subject"])
    assert list(second[-1].iter_attachments()) == []  # no invitation for the waiting list
    page = client.get("/events/emigratiebeurs?lang=en").get_data(as_text=True)
    assert "1 place left." in page  # too few for two people
    statuses = db.session.execute(
        select(Household.email, EventSignup.status)
        .join(Household, Household.id == EventSignup.household_id)
        .order_by(EventSignup.id)
    ).all()
    assert statuses == [("a@example.org", "registered"), ("b@example.org", "waitlisted")]

    leave = client.get(link_in(second[-1], "cancel")).get_data(as_text=True)
    assert "Do you want to leave the waiting list?" in leave
    cancel = link_in(first[-1], "cancel")
    assert "Cancel my sign-up" in client.get(cancel).get_data(as_text=True)
    assert count(EventSignup, EventSignup.status == "cancelled") == 0  # a GET changes nothing
    assert "Your sign-up is cancelled" in client.post(cancel).get_data(as_text=True)
    dispatch_outbox(utcnow())
    promoted = mails_to(smtp, "b@example.org")[-1]
    assert "You have a place: Emigratiebeurs Houten" in str(promoted["Subject"])
    assert ics_of(promoted).walk("VEVENT")[0].decoded("DTSTART") == STARTS
    statuses = dict(
        db.session.execute(
            select(Household.email, EventSignup.status).join(
                Household, Household.id == EventSignup.household_id
            )
        ).all()
    )
    assert statuses == {"a@example.org": "cancelled", "b@example.org": "registered"}
    # the link again: already cancelled, nothing more
    assert "Your sign-up is cancelled" in client.post(cancel).get_data(as_text=True)
    dispatch_outbox(utcnow())
    assert len(mails_to(smtp, "b@example.org")) == 3


def test_forged_cancel_link_is_refused(client, public):
    make_event()
    assert client.get("/events/cancel/not-a-token?lang=en").status_code == 404
    assert client.post("/events/cancel/not-a-token?lang=en").status_code == 404


def test_same_email_is_attached_and_phone_alone_gives_a_possible_duplicate(
    client, region, public, smtp
):
    event = make_event()
    known = factories.household(guide=region.mala_guide, email="sanne@example.nl")
    by_phone = factories.household(
        guide=region.mala_guide, email="other@example.org", phone="+31687654321"
    )
    db.session.commit()
    sign_up_and_confirm(client, smtp, event)
    assert count(Household) == 2  # attached to the household with the confirmed address
    signup = db.session.scalars(select(EventSignup)).one()
    assert signup.household_id == known.id
    sign_up_and_confirm(client, smtp, event, email="new@example.org", phone="+31687654321")
    assert count(Household) == 3
    newest = db.session.scalars(select(Household).order_by(Household.id.desc())).first()
    duplicate = db.session.scalars(
        select(HouseholdEvent).where(HouseholdEvent.kind == "possible_duplicate")
    ).one()
    assert (duplicate.household_id, duplicate.data["of_id"]) == (newest.id, by_phone.id)


@pytest.mark.parametrize(
    ("status", "text", "code"),
    [
        (EventStatus.PLANNED, "Sign-up has not opened yet", 409),
        (EventStatus.CLOSED, "Sign-up for this event is closed.", 409),
        (EventStatus.HELD, "Sign-up for this event is closed.", 409),
        (EventStatus.CANCELLED, "This event is cancelled.", 409),
    ],
)
def test_events_not_open_show_no_form_and_take_no_sign_up(client, public, status, text, code):
    make_event(status=status)
    page = client.get("/events/emigratiebeurs?lang=en").get_data(as_text=True)
    assert text in page and 'name="email"' not in page
    assert client.post("/events/emigratiebeurs?lang=en", data=form_data()).status_code == code
    assert count(InterestSubmission) == 0


def test_unknown_event_is_a_404_in_the_readers_language(client, public):
    response = client.get("/events/no-such-event?lang=de")
    assert response.status_code == 404 and '<html lang="de">' in response.get_data(as_text=True)


def test_event_closed_between_form_and_confirmation(client, public, smtp):
    event = make_event()
    client.post("/events/emigratiebeurs?lang=en", data=form_data())
    dispatch_outbox(utcnow())
    path = link_in(mails_to(smtp, "sanne@example.nl")[-1], "confirm")
    event.status = EventStatus.CANCELLED
    db.session.commit()
    response = client.post(path)
    assert response.status_code == 409
    assert "This event is cancelled." in response.get_data(as_text=True)
    assert count(Household) == 0 and count(EventSignup) == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "kein-email"}, "Ungültige E-Mail-Adresse."),
        ({"people": "0"}, "Geben Sie eine Zahl von 1 bis 10 an."),
        ({"people": "11"}, "Geben Sie eine Zahl von 1 bis 10 an."),
        ({"people": "viele"}, "Geben Sie eine Zahl von 1 bis 10 an."),
        ({"consent": None}, "Wir brauchen Ihre Zustimmung"),
        ({"first_name": "x" * 81}, "80"),
    ],
)
def test_bad_input_is_a_400_in_the_pages_language_and_nothing_is_saved(
    client, public, overrides, message
):
    make_event()
    response = client.post("/events/emigratiebeurs?lang=de", data=form_data(**overrides))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and "de Vries" in page  # what was typed stays
    assert count(InterestSubmission) == 0 and count(OutboxMessage) == 0


@pytest.mark.parametrize("trap", ["honeypot", "too_fast", "forged_stamp"])
def test_bots_get_the_same_answer_and_nothing_is_stored(app, client, public, monkeypatch, trap):
    make_event()
    data = form_data()
    if trap == "honeypot":
        data["website"] = "http://spam.example"
    elif trap == "too_fast":
        monkeypatch.setitem(app.config, "INTEREST_MIN_FILL_SECONDS", 3)
    else:
        data["started"] = "1234567890.forged"
    response = client.post("/events/emigratiebeurs?lang=en", data=data)
    assert response.status_code == 302 and "/sent" in response.location
    assert count(InterestSubmission) == 0


def test_oversized_request_and_rate_limit(app, client, public, monkeypatch):
    make_event()
    big = form_data(first_name="x" * 70_000)
    assert client.post("/events/emigratiebeurs?lang=en", data=big).status_code == 413
    monkeypatch.setitem(app.config, "INTEREST_RATE_LIMIT", "2/minute")
    for _ in range(2):
        bad = form_data(email="bad")
        assert client.post("/events/emigratiebeurs?lang=nl", data=bad).status_code == 400
    response = client.post("/events/emigratiebeurs?lang=nl", data=form_data())
    assert response.status_code == 429
    assert count(InterestSubmission) == 0


def _registered(event, email, status=SignupStatus.REGISTERED, language="nl"):
    from lotsen.events.signups import sign_up
    from lotsen.events.vocab import SignupChannel

    household = factories.household(email=email, language=language)
    signup = sign_up(event, household, channel=SignupChannel.STAFF, by=None)
    if status != SignupStatus.REGISTERED:
        set_status(signup, status, by=None)
    return signup


def test_reminder_the_day_before_is_sent_once(app_ctx, smtp, frozen):
    event = make_event()  # Saturday 12 December, 10:00
    other = make_event(slug="webinar", kind=EventType.WEBINAR, starts_at=STARTS + timedelta(days=1))
    off = make_event(slug="installt")
    _registered(event, "kommer@example.nl")
    _registered(event, "avbokad@example.nl", SignupStatus.CANCELLED)
    _registered(other, "sondag@example.nl")
    _registered(off, "installt@example.nl")
    off.status = EventStatus.CANCELLED
    db.session.commit()

    friday_morning = datetime(2026, 12, 11, 9, 0, tzinfo=UTC)  # 10:00 in Sweden
    assert send_event_reminders(friday_morning - timedelta(days=1)) == 0  # two days before
    assert send_event_reminders(friday_morning) == 1
    db.session.commit()
    assert send_event_reminders(friday_morning + timedelta(hours=1)) == 0  # run again
    db.session.commit()
    dispatch_outbox(friday_morning + timedelta(hours=1))
    reminders = [m for m in smtp.messages if m["X-Lotsen-Key"].startswith("event-reminder:")]
    assert [m["To"] for m in reminders] == ["kommer@example.nl"]
    assert str(reminders[0]["Subject"]) == "Morgen: Emigratiebeurs Houten"
    assert ics_of(reminders[0]).walk("VEVENT")[0].decoded("DTSTART") == STARTS
    # Sunday's webinar is reminded on Saturday
    assert send_event_reminders(friday_morning + timedelta(days=1)) == 1


def test_reminder_uses_the_swedish_calendar_date(app_ctx):
    # 23:30 UTC on Friday is already Saturday in Sweden: the event tomorrow is Sunday's
    late = make_event(slug="sondag", starts_at=datetime(2026, 12, 13, 8, 0, tzinfo=UTC))
    _registered(late, "sondag@example.nl")
    db.session.commit()
    assert send_event_reminders(datetime(2026, 12, 11, 23, 30, tzinfo=UTC)) == 1


def test_reminder_job_is_scheduled_at_a_swedish_morning_hour(app):
    from lotsen.scheduler import triggers

    trigger = triggers(app.config)["event-reminders"]
    assert str(trigger.timezone) == "Europe/Stockholm"
    assert "hour='10'" in str(trigger)


def test_full_event_offers_the_waiting_list(client, public):
    event = make_event(capacity=1)
    _registered(event, "first@example.nl")
    db.session.commit()
    page = client.get("/events/emigratiebeurs?lang=nl").get_data(as_text=True)
    assert "Het evenement is vol" in page and 'name="email"' in page


def test_outbox_mails_carry_attachments_and_headers_over_the_wire(app_ctx, smtp):
    from lotsen.notifications.services import Mail, enqueue

    mail = Mail(
        key="with-parts",
        kind="test",
        to="a@example.org",
        subject="Hej",
        body="Åsele",
        attachments=[
            {
                "filename": "a.ics",
                "content_type": "text/calendar; method=PUBLISH",
                "content": "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
            }
        ],
        headers={"List-Unsubscribe": "<https://example.org/u/1>"},
    )
    enqueue(mail, utcnow())
    enqueue(Mail(key="plain", kind="test", to="b@example.org", subject="s", body="b"), utcnow())
    db.session.commit()
    dispatch_outbox(utcnow())
    sent = {m["To"]: m for m in smtp.messages}
    parts = sent["a@example.org"]
    assert parts["List-Unsubscribe"] == "<https://example.org/u/1>"
    assert parts.get_body(("plain",)).get_content().strip() == "Åsele"
    (ics,) = parts.iter_attachments()
    assert ics.get_content_type() == "text/calendar" and ics.get_param("method") == "PUBLISH"
    assert ics.get_filename() == "a.ics" and "BEGIN:VCALENDAR" in ics.get_content()
    assert not sent["b@example.org"].is_multipart()
    with pytest.raises(ValueError):
        Mail(
            key="x",
            kind="t",
            to="c@example.org",
            subject="s",
            body="b",
            headers={"X-Evil": "a\r\nBcc: everyone@example.org"},
        )


def test_other_events_give_the_source_event_and_staff_cancel_mails_the_promoted(
    client, region, public, smtp
):
    from lotsen.events.optin import cancel_signup

    event = make_event(kind=EventType.VISIT_TRIP, capacity=1)
    sign_up_and_confirm(client, smtp, event, email="a@example.org", people="1")
    sign_up_and_confirm(client, smtp, event, email="b@example.org", phone=None, people="1")
    assert {h.source for h in db.session.scalars(select(Household))} == {"event"}
    first = db.session.scalars(select(EventSignup).order_by(EventSignup.id)).first()
    promoted = cancel_signup(first, utcnow(), by=region.coordinator)
    db.session.commit()
    dispatch_outbox(utcnow())
    assert [p.household.email for p in promoted] == ["b@example.org"]
    assert str(mails_to(smtp, "b@example.org")[-1]["Subject"]).startswith("U hebt een plaats")
