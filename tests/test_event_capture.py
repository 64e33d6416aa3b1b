"""Lead capture at the stand: the plain form, the phone's JSON batches (idempotent by the
client key), the duplicate rules, and who may capture for which event."""

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, insert, select

from lotsen import clock
from lotsen.audit.models import AuditEntry
from lotsen.events.leads import claim_statement
from lotsen.events.models import Event, EventSignup, LeadCapture
from lotsen.events.signups import sign_up
from lotsen.events.vocab import EventStatus, EventType, SignupChannel, SignupStatus
from lotsen.extensions import db
from lotsen.households.milestones import HouseholdMilestone
from lotsen.households.models import Household, HouseholdEvent
from lotsen.households.vocab import EventKind, Source
from lotsen.privacy.models import Consent, ConsentHow, Purpose
from lotsen.regions.models import Municipality
from tests import factories
from tests.conftest import login

_seq = iter(range(1, 10_000))


def make_event(*codes, kind=EventType.FAIR, status=EventStatus.OPEN, **fields) -> Event:
    n = next(_seq)
    start = clock.now() - timedelta(hours=2)
    event = Event(
        slug=f"emigratiebeurs-{n}-{uuid.uuid4().hex[:6]}",
        name=fields.pop("name", f"Emigratiebeurs Houten {n}"),
        kind=kind,
        status=status,
        starts_at=start,
        ends_at=start + timedelta(hours=8),
        country=fields.pop("country", "NL"),
        place="Houten",
        municipalities=[db.session.get(Municipality, c) for c in codes or (factories.NORSJO,)],
        **fields,
    )
    db.session.add(event)
    db.session.flush()
    return event


def capture(**fields) -> dict:
    base = {
        "key": str(uuid.uuid4()),
        "captured_at": clock.now().isoformat(),
        "name": "Eva de Vries",
        "email": f"eva.{uuid.uuid4().hex[:8]}@example.nl",
        "phone": "",
        "country": "NL",
        "language": "nl",
        "municipalities": [factories.NORSJO],
        "notes": "Snickare, vill bo nära skog",
        "consent_contact": True,
        "consent_newsletter": False,
    }
    base.update(fields)
    return base


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def post_batch(client, event, items):
    return client.post(f"/outreach/events/{event.id}/captures", json={"captures": items})


def test_page_without_javascript_stores_one_household(client, region, frozen):
    event = make_event(factories.NORSJO)
    db.session.commit()
    login(client, region.norsjo_guide)
    page = client.get(f"/outreach/events/{event.id}/capture")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'type="email"' in html and 'type="tel"' in html and "capture.js" in html
    assert f'value="{factories.NORSJO}" checked' in html  # the event's municipality
    key = uuid.uuid4().hex
    form = {
        "key": key,
        "name": "Eva de Vries",
        "email": "Eva@Example.nl",
        "phone": "06 12345678",
        "country": "NL",
        "language": "nl",
        "municipalities": [factories.NORSJO],
        "notes": "Snickare",
        "consent_contact": "y",
        "consent_newsletter": "y",
    }
    response = client.post(f"/outreach/events/{event.id}/capture", data=form)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/outreach/events/{event.id}/capture")
    assert "Sparad: Eva de Vries" in client.get(response.headers["Location"]).get_data(as_text=True)
    household = db.session.scalars(select(Household)).one()
    assert (household.email, household.phone) == ("eva@example.nl", "+31612345678")
    assert household.source == Source.FAIR and household.source_detail == event.name
    assert household.first_event_id == event.id
    assert household.primary_municipality_code == factories.NORSJO
    assert household.guide_id == region.norsjo_guide.id
    assert [p.full_name for p in household.persons] == ["Eva de Vries"]
    consents = db.session.scalars(select(Consent).order_by(Consent.purpose)).all()
    assert [(c.purpose, c.given_how) for c in consents] == [
        (Purpose.CONTACT, ConsentHow.CAPTURE),
        (Purpose.NEWSLETTER, ConsentHow.CAPTURE),
    ]
    signup = db.session.scalars(select(EventSignup)).one()
    assert (signup.status, signup.channel) == (SignupStatus.ATTENDED, SignupChannel.CAPTURE)
    kinds = set(db.session.scalars(select(HouseholdEvent.kind)))
    assert {EventKind.CREATED, EventKind.EVENT_SIGNUP, EventKind.NOTE} <= kinds
    entry = db.session.scalars(
        select(HouseholdEvent).where(HouseholdEvent.kind == EventKind.EVENT_SIGNUP)
    ).one()
    assert (entry.data["status"], entry.data["channel"]) == ("attended", "capture")
    note = db.session.scalar(select(HouseholdEvent.text).where(HouseholdEvent.kind == "note"))
    assert note == "Snickare"
    lead = db.session.scalars(select(LeadCapture)).one()
    assert (lead.client_key, lead.household_id, lead.by_id) == (
        key,
        household.id,
        region.norsjo_guide.id,
    )
    assert count(AuditEntry, AuditEntry.action == "event.capture") == 1

    # the same form sent again (back button, resend): nothing new
    again = client.post(f"/outreach/events/{event.id}/capture", data=form)
    assert again.status_code == 302
    assert count(Household) == 1 and count(LeadCapture) == 1


def test_page_refuses_a_capture_without_consent_or_contact(client, region):
    event = make_event(factories.NORSJO)
    db.session.commit()
    login(client, region.norsjo_guide)
    url = f"/outreach/events/{event.id}/capture"
    response = client.post(url, data={"key": uuid.uuid4().hex, "name": "Eva", "email": ""})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="email-error"' in html and 'id="consent_contact-error"' in html
    assert count(Household) == 0 and count(LeadCapture) == 0


def test_batch_is_idempotent_by_client_key(client, region):
    event = make_event(factories.NORSJO)
    db.session.commit()
    login(client, region.norsjo_guide)
    items = [capture(), capture(phone="+46701234567", email="")]
    first = post_batch(client, event, items)
    assert first.status_code == 200
    assert [r["status"] for r in first.json["results"]] == ["stored", "stored"]
    ids = set(db.session.scalars(select(Household.id)))
    assert len(ids) == 2
    # the milestone rows, computed once for the batch, are those of the history
    rows = db.session.execute(
        select(HouseholdMilestone.household_id, HouseholdMilestone.interest_at)
    )
    assert {household_id for household_id, at in rows.all() if at is not None} == ids
    second = post_batch(client, event, items)  # the answer was lost: the phone sends again
    assert second.status_code == 200
    assert [(r["key"], r["status"]) for r in second.json["results"]] == [
        (items[0]["key"], "duplicate"),
        (items[1]["key"], "duplicate"),
    ]
    assert set(db.session.scalars(select(Household.id))) == ids
    assert count(LeadCapture) == 2 and count(EventSignup) == 2
    assert second.json["leads"] == 2


def test_mixed_batch_stores_the_good_and_reports_the_bad(client, region):
    event = make_event(factories.NORSJO)
    db.session.commit()
    login(client, region.norsjo_guide)
    good = [capture(), capture()]
    bad = capture(phone="12", email="", name="Utan Kontakt")
    no_consent = capture(consent_contact=False)
    hostile = capture(name="Eva\x00")
    response = post_batch(client, event, [good[0], bad, no_consent, hostile, good[1], "junk"])
    assert response.status_code == 200
    results = response.json["results"]
    assert [r["status"] for r in results] == [
        "stored",
        "invalid",
        "invalid",
        "invalid",
        "stored",
        "invalid",
    ]
    assert "phone" in results[1]["errors"]
    assert "consent_contact" in results[2]["errors"]
    assert results[5]["key"] is None
    assert count(Household) == 2 and count(LeadCapture) == 2
    assert response.json["stored"] == 2


@pytest.mark.parametrize("payload", [None, {}, {"captures": []}, {"captures": "x"}])
def test_malformed_batches_are_a_400(client, region, payload):
    event = make_event(factories.NORSJO)
    db.session.commit()
    login(client, region.norsjo_guide)
    url = f"/outreach/events/{event.id}/captures"
    response = client.post(url, json=payload) if payload is not None else client.post(url)
    assert response.status_code == 400
    assert "error" in response.json
    too_many = post_batch(client, event, [capture() for _ in range(101)])
    assert too_many.status_code == 400 and count(Household) == 0


def test_same_email_attaches_same_phone_only_gives_a_possible_duplicate(client, region):
    event = make_event(factories.NORSJO)
    known = factories.household(
        guide=region.norsjo_guide, email="bakker@example.nl", phone="+31612345678"
    )
    sign_up(event, known, channel=SignupChannel.PUBLIC, by=None)  # registered beforehand
    db.session.commit()
    login(client, region.norsjo_guide)
    by_email = capture(email="Bakker@example.nl", phone="")
    by_phone = capture(email="", phone="+31 6 12345678", name="Piet Bakker")
    response = post_batch(client, event, [by_email, by_phone])
    assert [r["status"] for r in response.json["results"]] == ["stored", "stored"]
    households = db.session.scalars(select(Household).order_by(Household.id)).all()
    assert len(households) == 2  # the known one, and one new from the phone-only capture
    new = households[1]
    assert new.name == "Piet Bakker"
    duplicate = db.session.scalars(
        select(HouseholdEvent).where(HouseholdEvent.kind == EventKind.POSSIBLE_DUPLICATE)
    ).one()
    assert (duplicate.household_id, duplicate.data["of_id"]) == (new.id, known.id)
    signups = {s.household_id: s.status for s in db.session.scalars(select(EventSignup))}
    assert signups == {known.id: SignupStatus.ATTENDED, new.id: SignupStatus.ATTENDED}
    leads = dict(db.session.execute(select(LeadCapture.client_key, LeadCapture.household_id)).all())
    assert leads == {by_email["key"]: known.id, by_phone["key"]: new.id}
    assert known.first_event_id == event.id
    attendance = db.session.scalars(
        select(HouseholdEvent).where(
            HouseholdEvent.household_id == known.id,
            HouseholdEvent.kind == EventKind.EVENT_ATTENDANCE,
        )
    ).one()
    assert attendance.data["status"] == "attended"  # their registration, now attended


def test_primary_municipality_and_guide_follow_the_choice(client, region):
    event = make_event(factories.NORSJO, factories.MALA, kind=EventType.WEBINAR)
    db.session.commit()
    login(client, region.coordinator)
    one = capture(municipalities=[factories.MALA])
    several = capture(municipalities=[factories.MALA, factories.NORSJO])
    post_batch(client, event, [one, several])
    rows = db.session.execute(
        select(LeadCapture.client_key, Household)
        .join(Household, Household.id == LeadCapture.household_id)
        .order_by(LeadCapture.id)
    ).all()
    first, second = rows[0][1], rows[1][1]
    assert (first.primary_municipality_code, first.guide_id) == (
        factories.MALA,
        region.mala_guide.id,
    )
    assert first.source == Source.EVENT
    assert second.primary_municipality_code is None  # several: "not sure yet"
    assert second.municipality_codes == {factories.MALA, factories.NORSJO}


def test_a_held_event_still_takes_the_queue_a_cancelled_one_does_not(client, region):
    held = make_event(factories.NORSJO, status=EventStatus.HELD)
    cancelled = make_event(factories.NORSJO, status=EventStatus.CANCELLED)
    db.session.commit()
    login(client, region.norsjo_guide)
    response = post_batch(client, held, [capture()])
    assert response.json["results"][0]["status"] == "stored"
    assert db.session.scalars(select(EventSignup.status)).one() == SignupStatus.ATTENDED
    assert post_batch(client, cancelled, [capture()]).status_code == 409
    assert count(Household) == 1


def test_guide_of_another_municipality_cannot_capture(client, region):
    event = make_event(factories.MALA)
    db.session.commit()
    login(client, region.norsjo_guide)
    base = f"/outreach/events/{event.id}"
    assert client.get(f"{base}/capture").status_code == 404
    assert client.post(f"{base}/capture", data={"name": "x"}).status_code == 404
    assert post_batch(client, event, [capture()]).status_code == 404
    assert client.get(f"{base}/captures/token").status_code == 404
    assert count(Household) == 0 and count(LeadCapture) == 0
    login(client, region.mala_guide)
    assert client.get(f"{base}/capture").status_code == 200


def test_an_ended_session_is_a_redirect_to_login_and_nothing_is_stored(client, region, frozen):
    event = make_event(factories.NORSJO)
    db.session.commit()
    login(client, region.norsjo_guide)
    frozen.shift(timedelta(hours=1))  # idle for an hour at the stand
    response = post_batch(client, event, [capture()])
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert count(LeadCapture) == 0


def test_token_endpoint_and_worker(client, region):
    event = make_event(factories.NORSJO)
    db.session.commit()
    worker = client.get("/outreach/events/capture-sw.js")  # public, like a static file
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert b"addEventListener" in worker.data
    login(client, region.norsjo_guide)
    token = client.get(f"/outreach/events/{event.id}/captures/token")
    assert token.status_code == 200 and token.json["csrf_token"]


def test_the_same_key_in_two_transactions_at_once_is_claimed_once(app):
    """The race a reconnecting phone can cause: one key in two requests at once. The second
    claim waits for the first transaction (PostgreSQL: the unique index; SQLite: the write
    lock) and then finds the key taken: no error, no second household."""
    with app.app_context():
        engine = db.engine
    key = str(uuid.uuid4())
    with engine.begin() as conn:
        start = clock.now()
        event_id = conn.execute(
            insert(Event).returning(Event.id),
            {
                "slug": f"race-{key[:8]}",
                "name": "Race",
                "kind": EventType.FAIR,
                "status": EventStatus.OPEN,
                "starts_at": start,
                "ends_at": start,
                "descriptions": {},
                "created_at": start,
                "updated_at": start,
            },
        ).scalar()
    claim = claim_statement(engine.dialect.name)
    values = {
        "client_key": key,
        "event_id": event_id,
        "captured_at": clock.now(),
        "received_at": clock.now(),
        "by_id": None,
        "household_id": None,
    }
    second: list = []

    def other_request():
        with engine.connect() as conn, conn.begin():
            second.append(conn.execute(claim, values).scalar())

    try:
        with engine.connect() as first:
            with first.begin():
                assert first.execute(claim, values).scalar() is not None
                thread = threading.Thread(target=other_request)
                thread.start()
                thread.join(0.5)
                assert thread.is_alive()  # waiting for the first transaction
            thread.join(30)
        assert second == [None]
    finally:
        with engine.begin() as conn:
            conn.execute(delete(LeadCapture).where(LeadCapture.client_key == key))
            conn.execute(delete(Event).where(Event.id == event_id))


def test_the_same_visitor_twice_in_one_batch_is_one_household(client, region):
    event = make_event(factories.NORSJO)
    db.session.commit()
    login(client, region.norsjo_guide)
    first = capture(email="twice@example.nl", consent_newsletter=True)
    again = capture(email="Twice@example.nl", notes="Kom tillbaka med sin partner")
    response = post_batch(client, event, [first, again])
    assert [r["status"] for r in response.json["results"]] == ["stored", "stored"]
    household = db.session.scalars(select(Household)).one()
    assert count(EventSignup) == 1 and count(LeadCapture) == 2
    purposes = sorted(db.session.scalars(select(Consent.purpose)))
    assert purposes == [Purpose.CONTACT, Purpose.NEWSLETTER]  # not recorded twice
    notes = db.session.scalars(
        select(HouseholdEvent.text).where(
            HouseholdEvent.household_id == household.id, HouseholdEvent.kind == EventKind.NOTE
        )
    ).all()
    assert sorted(notes) == ["Kom tillbaka med sin partner", "Snickare, vill bo nära skog"]
