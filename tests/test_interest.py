"""The public interest form: languages, double opt-in, duplicates, bad and hostile input."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lotsen.clock import now as utcnow
from lotsen.extensions import db, limiter
from lotsen.followups.models import FollowUp
from lotsen.households.models import Household, HouseholdEvent
from lotsen.interest.forms import started_token
from lotsen.interest.models import InterestSubmission
from lotsen.interest.services import purge_unconfirmed
from lotsen.notifications.models import OutboxMessage
from lotsen.notifications.services import dispatch_outbox
from tests import factories


@pytest.fixture
def public(app, monkeypatch):
    """The form without its minimum fill time (tests that need it set it back)."""
    monkeypatch.setitem(app.config, "INTEREST_MIN_FILL_SECONDS", 0)
    limiter.reset()
    yield
    limiter.reset()


def form_data(**overrides):
    with_started = {
        "first_name": "Sanne",
        "last_name": "de Vries",
        "email": "Sanne@Example.NL",
        "phone": "06 12345678",
        "country": "NL",
        "town": "Utrecht",
        "language": "nl",
        "occupation": "Verpleegkundige",
        "seeks_job": "y",
        "partner_name": "Daan",
        "partner_occupation": "Timmerman",
        "children": "4, 9",
        "primary": factories.NORSJO,
        "others": [factories.MALA],
        "housing_tenure": "buy",
        "housing_type": "house",
        "housing_wishes": "Met ruimte voor een moestuin",
        "timeframe": "1y",
        "source": "fair",
        "message": "Wij komen in juli kijken!",
        "consent": "y",
        "privacy_version": "2026-11-26",
        "started": started_token(),
    }
    with_started.update(overrides)
    return {k: v for k, v in with_started.items() if v is not None}


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def confirmation_link(smtp) -> str:
    body = smtp.messages[-1].get_content()
    return re.search(r"http://\S+/interest/confirm/\S+", body).group(0)


def test_form_speaks_the_visitors_language(client, make_client, public):
    assert "Denkt u erover" in client.get("/interest?lang=nl").get_data(as_text=True)
    assert "Denkt u erover" in client.get("/interest").get_data(as_text=True)  # remembered
    page = make_client().get("/interest", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert '<html lang="de">' in page.get_data(as_text=True)
    assert "Funderar du" in client.get("/interest?lang=sv").get_data(as_text=True)
    assert "Thinking of moving" in client.get("/interest?lang=en").get_data(as_text=True)


def test_municipality_website_preselects_its_municipality(client, public):
    page = client.get(f"/interest?lang=en&kommun={factories.NORSJO}").get_data(as_text=True)
    assert f'value="{factories.NORSJO}" checked' in page
    assert client.get("/interest?kommun=9999").status_code == 200  # unknown: nothing chosen


def test_double_opt_in_creates_the_household_for_the_right_guide(
    app_ctx, client, region, public, smtp
):
    response = client.post("/interest?lang=nl", data=form_data())
    assert response.status_code == 302 and "/interest/sent" in response.headers["Location"]
    assert count(Household) == 0  # not before the visitor confirmed
    submission = db.session.scalars(select(InterestSubmission)).one()
    assert (submission.email, submission.phone, submission.locale) == (
        "sanne@example.nl",
        "+31612345678",
        "nl",
    )
    assert submission.privacy_version == "2026-11-26" and submission.status == "pending"

    dispatch_outbox(utcnow())
    mail = smtp.messages[-1]
    assert mail["To"] == "sanne@example.nl"
    assert "Bevestig uw interesse" in str(mail["Subject"])
    link = confirmation_link(smtp)
    path = link.split("127.0.0.1:5000")[1]
    page = client.get(path).get_data(as_text=True)
    assert "Bevestigen" in page and count(Household) == 0  # a GET (a link scanner) confirms nothing

    page = client.post(path).get_data(as_text=True)
    assert "Uw interesse is bevestigd" in page
    h = db.session.scalars(select(Household)).one()
    assert h.guide_id == region.norsjo_guide.id
    assert (h.name, h.email, h.phone, h.primary_municipality_code) == (
        "Familjen de Vries",
        "sanne@example.nl",
        "+31612345678",
        factories.NORSJO,
    )
    assert {m.code for m in h.other_municipalities} == {factories.MALA}
    assert [(p.kind, p.first_name) for p in h.persons] == [
        ("adult", "Sanne"),
        ("adult", "Daan"),
        ("child", "?"),
        ("child", "?"),
    ]
    followup = db.session.scalars(select(FollowUp)).one()
    assert (followup.assignee_id, followup.rule_key) == (region.norsjo_guide.id, "first_contact")
    message = db.session.scalars(
        select(HouseholdEvent.text).where(HouseholdEvent.kind == "interest_message")
    ).one()
    assert message == "Wij komen in juli kijken!"
    notice = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "interest")).one()
    assert notice.to_address == region.norsjo_guide.email

    # the link again (replayed): a friendly answer, nothing new
    assert "Uw interesse was al bevestigd" in client.post(path).get_data(as_text=True)
    assert "Uw interesse was al bevestigd" in client.get(path).get_data(as_text=True)
    assert count(Household) == 1 and count(FollowUp) == 1


def test_same_email_again_is_attached_not_duplicated(app_ctx, client, region, public, smtp):
    existing = factories.household(
        guide=region.mala_guide,
        email="sanne@example.nl",
        municipality=factories.MALA,
        town="Amersfoort",
    )
    db.session.commit()
    client.post("/interest?lang=en", data=form_data(phone=None))
    dispatch_outbox(utcnow())
    client.post(confirmation_link(smtp).split("127.0.0.1:5000")[1])
    assert count(Household) == 1
    event = db.session.scalars(
        select(HouseholdEvent).where(HouseholdEvent.kind == "interest_again")
    ).one()
    assert event.household_id == existing.id
    assert event.data["changes"]["town"] == {"was": "Amersfoort", "form": "Utrecht"}
    db.session.refresh(existing)
    assert existing.town == "Amersfoort"  # the guide decides; nothing is overwritten


def test_not_sure_yet_goes_to_the_regional_inbox(app_ctx, client, region, public, smtp):
    client.post("/interest?lang=en", data=form_data(primary="", others=None))
    dispatch_outbox(utcnow())
    client.post(confirmation_link(smtp).split("127.0.0.1:5000")[1])
    h = db.session.scalars(select(Household)).one()
    assert (h.primary_municipality_code, h.guide_id) == (None, None)
    to = db.session.scalars(
        select(OutboxMessage.to_address).where(OutboxMessage.kind == "interest")
    ).all()
    assert to == [region.coordinator.email]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "not-an-email"}, "Invalid email address."),
        ({"phone": "12345"}, "This phone number is not valid"),
        ({"first_name": "x" * 81}, "80"),
        ({"message": "x" * 2001}, "2000"),
        ({"consent": None}, "We need your consent to help you."),
        ({"children": "four"}, "Give the ages as numbers"),
        ({"primary": "9999"}, "Not a valid choice"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_stored(client, public, overrides, message):
    response = client.post("/interest?lang=en", data=form_data(**overrides))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert "Utrecht" in page  # what was typed stays in the form
    assert count(InterestSubmission) == 0 and count(OutboxMessage) == 0


def test_script_is_stored_as_text(app_ctx, client, public):
    client.post("/interest?lang=en", data=form_data(first_name="<script>alert(1)</script>"))
    submission = db.session.scalars(select(InterestSubmission)).one()
    assert submission.data["first_name"] == "<script>alert(1)</script>"
    page = client.post(
        "/interest?lang=en", data=form_data(first_name="<script>alert(1)</script>", email="bad")
    ).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page


@pytest.mark.parametrize("trap", ["honeypot", "too_fast", "forged_stamp"])
def test_bots_get_the_same_answer_and_nothing_is_stored(app, client, public, monkeypatch, trap):
    data = form_data()
    if trap == "honeypot":
        data["website"] = "http://spam.example"
    elif trap == "too_fast":
        monkeypatch.setitem(app.config, "INTEREST_MIN_FILL_SECONDS", 3)
    else:
        data["started"] = "1234567890.forged"
    response = client.post("/interest?lang=en", data=data)
    assert response.status_code == 302 and "/interest/sent" in response.headers["Location"]
    assert count(InterestSubmission) == 0


def test_oversized_request_is_refused(client, public):
    response = client.post("/interest?lang=en", data=form_data(message="x" * 70_000))
    assert response.status_code == 413
    assert count(InterestSubmission) == 0


def test_rate_limit_per_ip_in_the_visitors_language(app, client, public, monkeypatch):
    monkeypatch.setitem(app.config, "INTEREST_RATE_LIMIT", "3/minute")
    for _ in range(3):
        assert client.post("/interest?lang=de", data=form_data(email="bad")).status_code == 400
    response = client.post("/interest?lang=de", data=form_data())
    assert response.status_code == 429
    assert "Zu viele Anfragen" in response.get_data(as_text=True)
    assert client.get("/interest?lang=de").status_code == 200  # reading is not limited


def test_forged_and_expired_links(client, region, public, smtp, frozen):
    assert client.get("/interest/confirm/not-a-token?lang=en").status_code == 404
    client.post("/interest?lang=en", data=form_data())
    dispatch_outbox(utcnow())
    path = confirmation_link(smtp).split("127.0.0.1:5000")[1]
    token = path.split("/interest/confirm/")[1].split("?")[0]
    payload, signature = token.rsplit(".", 1)
    forged = f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert client.get(f"/interest/confirm/{forged}?lang=en").status_code == 404
    frozen.shift(timedelta(days=7, seconds=1))  # INTEREST_CONFIRM_DAYS is 7
    response = client.post(path)
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    assert count(Household) == 0


def test_unconfirmed_submissions_are_deleted_after_seven_days(app_ctx, client, public, smtp):
    client.post("/interest?lang=en", data=form_data(email="a@example.org", phone=None))
    client.post("/interest?lang=en", data=form_data(email="b@example.org", phone=None))
    dispatch_outbox(utcnow())
    client.post(confirmation_link(smtp).split("127.0.0.1:5000")[1])  # b confirms
    assert purge_unconfirmed(utcnow() + timedelta(days=6)) == 0
    assert purge_unconfirmed(utcnow() + timedelta(days=7, minutes=1)) == 1
    remaining = db.session.scalars(select(InterestSubmission.email)).all()
    assert remaining == ["b@example.org"]


def test_privacy_and_accessibility_pages_in_each_language(client, public):
    for lang, text in (
        ("sv", "Integritetsinformation"),
        ("de", "Datenschutzhinweise"),
        ("nl", "Privacyverklaring"),
        ("en", "Privacy notice"),
    ):
        assert text in client.get(f"/privacy?lang={lang}").get_data(as_text=True)
    page = client.get("/accessibility?lang=nl").get_data(as_text=True)
    assert "Een probleem melden" in page and "mailto:" in page


def test_rate_limit_is_shared_by_workers_through_redis(app, database):
    """Two app instances (two gunicorn workers) count against one limit in Redis."""
    import redis

    from lotsen import create_app
    from tests.conftest import IN_CI, make_config

    try:
        redis.Redis(host="127.0.0.1", port=6379, db=15, socket_connect_timeout=2).flushdb()
    except redis.exceptions.ConnectionError:
        message = "Redis is not running on 127.0.0.1:6379: shared rate-limit test skipped."
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    settings = {
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
        "INTEREST_RATE_LIMIT": "3/minute",
    }
    workers = [create_app(make_config(database, **settings)) for _ in range(2)]
    statuses = []
    try:
        for i in range(4):
            client = workers[i % 2].test_client()
            statuses.append(client.post("/interest?lang=en", data={"email": "x"}).status_code)
    finally:
        limiter.init_app(app)  # the limiter object is shared: give the suite's app its own back
    assert statuses == [400, 400, 400, 429]


def confirm_one(client, smtp, **overrides):
    client.post("/interest?lang=en", data=form_data(**overrides))
    dispatch_outbox(utcnow())
    client.post(confirmation_link(smtp).split("127.0.0.1:5000")[1])


def test_first_contact_follows_the_coordinators_rule_setting(
    app_ctx, client, region, public, smtp, frozen
):
    from datetime import date

    from lotsen.followups.rules import save_rule

    save_rule("first_contact", True, {"working_days": 5}, region.coordinator)
    db.session.commit()
    confirm_one(client, smtp)
    followup = db.session.scalars(select(FollowUp)).one()
    assert followup.due_on == date(2026, 12, 2)  # Wednesday + 5 working days

    save_rule("first_contact", False, {"working_days": 5}, region.coordinator)
    db.session.commit()
    confirm_one(client, smtp, email="other@example.org", phone=None)
    assert count(Household) == 2 and count(FollowUp) == 1  # switched off: none for the second
