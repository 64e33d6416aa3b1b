"""The communicator's audiences: filters, the active newsletter consent, the CSV export and
its log, unsubscribing (page and RFC 8058 one-click), and the communicator kept away from
household data."""

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from lotsen import clock
from lotsen.accounts.models import Role, User
from lotsen.audiences import services as svc
from lotsen.audit.models import AuditEntry
from lotsen.events.models import Audience, Event
from lotsen.events.signups import set_status, sign_up
from lotsen.events.vocab import EventType, SignupChannel, SignupStatus
from lotsen.extensions import db
from lotsen.households.vocab import Stage
from lotsen.pipeline.models import ExportLog
from lotsen.privacy.consents import record_consent, withdraw_consent
from lotsen.privacy.models import Consent, ConsentHow, Purpose
from lotsen.workdays import local_date
from tests import factories
from tests.conftest import login, make_config


def _newsletter(household, by, days_ago=10):
    return record_consent(
        household,
        purpose=Purpose.NEWSLETTER,
        text_version="2026-11",
        how=ConsentHow.FORM,
        at=clock.now() - timedelta(days=days_ago),
        by=by,
    )


def _event(name="Emigratiebeurs Utrecht", by=None):
    start = clock.now() - timedelta(days=20)
    event = Event(
        slug=re.sub(r"\W+", "-", name.lower()),
        name=name,
        kind=EventType.FAIR,
        starts_at=start,
        ends_at=start + timedelta(hours=8),
        country="NL",
    )
    db.session.add(event)
    db.session.flush()
    return event


@pytest.fixture
def people(region):
    """Hand-made households: who has a newsletter consent, where, in which language."""
    g = region.norsjo_guide
    fair = _event()
    webinar = _event("Webinar Lappland")
    h = {
        # NL, Dutch, Norsjö (and Malå of interest), new: subscribed
        "anna": factories.household(
            guide=g, name="Familjen Anna", email="anna@example.nl", others=[factories.MALA]
        ),
        # DE, German, Malå, contacted, attended the fair: subscribed
        "bernd": factories.household(
            factories.MALA,
            guide=region.mala_guide,
            name="Familie Bernd",
            email="bernd@example.de",
            country="DE",
            language="de",
        ),
        # NL, English, Lycksele, signed up for the fair but did not come: subscribed
        "cees": factories.household(
            factories.LYCKSELE, name="Family Cees", email="cees@example.nl", language="en"
        ),
        # subscribed once, withdrew
        "dirk": factories.household(guide=g, name="Familjen Dirk", email="dirk@example.nl"),
        # only a contact consent
        "eva": factories.household(guide=g, name="Familjen Eva", email="eva@example.nl"),
        # subscribed, but no e-mail address
        "frida": factories.household(guide=g, name="Familjen Frida", email=None),
        # subscribed, then anonymised by the disposal rules
        "gert": factories.household(guide=g, name="Familjen Gert", email="gert@example.nl"),
    }
    for key in ("anna", "bernd", "cees", "dirk", "frida", "gert"):
        _newsletter(h[key], g)
    record_consent(
        h["eva"], purpose=Purpose.CONTACT, text_version="1", how="form", at=clock.now(), by=g
    )
    withdraw_consent(
        db.session.scalar(select(Consent).where(Consent.household_id == h["dirk"].id)),
        how=ConsentHow.EMAIL,
        at=clock.now(),
        by=g,
    )
    h["gert"].anonymised_at = clock.now()
    h["bernd"].stage = Stage.CONTACTED
    set_status(
        sign_up(fair, h["bernd"], channel=SignupChannel.STAFF, by=g), SignupStatus.ATTENDED, by=g
    )
    set_status(
        sign_up(fair, h["cees"], channel=SignupChannel.STAFF, by=g), SignupStatus.NO_SHOW, by=g
    )
    set_status(
        sign_up(webinar, h["anna"], channel=SignupChannel.STAFF, by=g), SignupStatus.ATTENDED, by=g
    )
    db.session.commit()
    h["fair"], h["webinar"] = fair, webinar
    return h


def _emails(filters) -> set[str]:
    return {row[0] for row in svc.member_rows(filters)}


def test_filters_select_the_right_households(people):
    everyone = {"anna@example.nl", "bernd@example.de", "cees@example.nl"}
    assert _emails({}) == everyone  # no filter: all with an active newsletter consent
    assert svc.count_members({}) == 3
    assert _emails({"municipalities": [factories.MALA]}) == {"anna@example.nl", "bernd@example.de"}
    assert _emails({"municipalities": [factories.LYCKSELE]}) == {"cees@example.nl"}
    assert _emails({"countries": ["NL"]}) == {"anna@example.nl", "cees@example.nl"}
    assert _emails({"languages": ["de", "en"]}) == {"bernd@example.de", "cees@example.nl"}
    assert _emails({"stages": ["contacted"]}) == {"bernd@example.de"}
    assert _emails({"events": [people["fair"].id]}) == {"bernd@example.de"}  # no-show: out
    both = [people["fair"].id, people["webinar"].id]
    assert _emails({"events": both}) == {"anna@example.nl", "bernd@example.de"}
    # filters together: every filter, any value within one
    assert _emails({"countries": ["NL"], "municipalities": [factories.MALA]}) == {"anna@example.nl"}
    assert _emails({"countries": ["SE"]}) == set()
    assert svc.count_members({"countries": ["NL"], "languages": ["nl"]}) == 1
    # the list page counts every audience in one query: the same numbers
    audiences = [
        svc.save_audience(None, name=str(i), filters=f, notes=None, by=people["anna"].guide)
        for i, f in enumerate(({}, {"countries": ["NL"]}, {"events": both}, {"stages": ["visit"]}))
    ]
    assert svc.counts(audiences) == {a.id: svc.count_members(a.filters) for a in audiences}
    assert list(svc.counts(audiences).values()) == [3, 2, 2, 0]


def test_only_an_active_newsletter_consent_counts(people):
    out = {"dirk@example.nl", "eva@example.nl", "gert@example.nl"}
    assert not out & _emails({})  # withdrawn, contact consent only, anonymised
    assert svc.count_members({"countries": ["NL"]}) == 2  # frida: no address


def _csv(response) -> list[list[str]]:
    text = response.data.decode("utf-8")
    assert not text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text)))


def test_export_has_exactly_four_columns_and_is_logged(client, region, people):
    login(client, region.communicator)
    page = client.post(
        "/outreach/audiences/new",
        data={"name": "Nederland", "countries": ["NL"], "notes": "Nyhetsbrev december"},
    )
    assert page.status_code == 302
    audience = db.session.scalar(select(Audience))
    assert audience.filters == {"countries": ["NL"]}
    assert audience.created_by_id == region.communicator.id

    response = client.get(f"/outreach/audiences/{audience.id}/export.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == ["email", "name", "language", "consent_date"]
    consent_date = local_date(clock.now() - timedelta(days=10)).isoformat()  # Swedish day
    assert sorted(rows[1:]) == [
        ["anna@example.nl", "Familjen Anna", "nl", consent_date],
        ["cees@example.nl", "Family Cees", "en", consent_date],
    ]
    assert all(len(r) == 4 for r in rows)

    log = db.session.scalar(select(ExportLog))
    assert (log.user_id, log.kind, log.format, log.rows) == (
        region.communicator.id,
        "audience",
        "csv",
        2,
    )
    assert log.filters == {"audience_id": audience.id, "audience": "Nederland", "countries": ["NL"]}
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export.audience"))
    assert entry.user_id == region.communicator.id
    assert entry.changes["rows"] == 2 and entry.changes["filters"]["audience_id"] == audience.id
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "audience.create"))


def test_a_withdrawn_consent_and_an_unsubscribe_leave_the_next_export(client, region, people):
    audience = svc.save_audience(None, name="Alla", filters={}, notes=None, by=region.coordinator)
    db.session.commit()
    login(client, region.coordinator)
    url = f"/outreach/audiences/{audience.id}/export.csv"
    assert len(_csv(client.get(url))) == 4

    anna = db.session.scalar(select(Consent).where(Consent.household_id == people["anna"].id))
    withdraw_consent(anna, how=ConsentHow.PHONE, at=clock.now(), by=region.norsjo_guide)
    db.session.commit()
    token = svc.unsubscribe_token(people["bernd"])
    anonymous = client.application.test_client()
    assert anonymous.post(f"/newsletter/unsubscribe/{token}").status_code == 200

    rows = _csv(client.get(url))
    assert [r[0] for r in rows[1:]] == ["cees@example.nl"]
    logs = db.session.scalars(select(ExportLog.rows).order_by(ExportLog.id)).all()
    assert logs == [3, 1]
    assert "1 hushåll" in client.get("/outreach/audiences").get_data(as_text=True)


def test_unsubscribe_page_asks_then_withdraws_in_the_persons_language(client, region, people):
    bernd = people["bernd"]
    url = svc.unsubscribe_url(bernd)
    base = client.application.config["BASE_URL"].rstrip("/")
    assert url.startswith(f"{base}/newsletter/unsubscribe/")
    path = url.removeprefix(base)
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="de">' in html
    assert 'method="post"' in html
    assert svc.active_newsletter_consents(bernd)  # a GET (a link scanner) changes nothing

    done = client.post(path)
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and '<html lang="de">' in html
    assert "abgemeldet" in html
    consent = db.session.scalar(select(Consent).where(Consent.household_id == bernd.id))
    assert consent.withdrawn_how == ConsentHow.UNSUBSCRIBE and consent.withdrawn_by_id is None
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "consent.withdraw", AuditEntry.household_id == bernd.id
        )
    )
    assert entry.user_id is None and entry.changes["how"] == "unsubscribe"
    again = client.post(path)
    assert again.status_code == 200 and "abgemeldet" not in again.get_data(as_text=True)
    assert client.get(f"{path}?lang=sv").status_code == 200

    login(client, region.mala_guide)  # the consents card says how it was withdrawn
    card = client.get(f"/households/{bernd.id}").get_data(as_text=True)
    assert "Avregistreringslänk" in card


def test_a_tampered_or_foreign_token_is_refused(client, people):
    token = svc.unsubscribe_token(people["anna"])
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), token + "x", "abc"):
        assert client.get(f"/newsletter/unsubscribe/{bad}").status_code == 404
        assert client.post(f"/newsletter/unsubscribe/{bad}").status_code == 404
    from itsdangerous import URLSafeSerializer

    other_salt = URLSafeSerializer(client.application.secret_key, salt="x").dumps(people["cees"].id)
    assert client.post(f"/newsletter/unsubscribe/{other_salt}").status_code == 404
    anonymised = svc.unsubscribe_token(people["gert"])
    assert client.get(f"/newsletter/unsubscribe/{anonymised}").status_code == 404
    assert svc.count_members({}) == 3  # nothing withdrawn


def test_one_click_post_works_without_a_csrf_token_and_the_form_needs_one(
    database, app_ctx, people
):
    from lotsen import create_app

    csrf_app = create_app(make_config(database, WTF_CSRF_ENABLED=True))
    with csrf_app.app_context():
        client = csrf_app.test_client()
        anna, cees = people["anna"], people["cees"]
        path = f"/newsletter/unsubscribe/{svc.unsubscribe_token(cees)}"
        refused = client.post(path, data={})
        assert refused.status_code == 400
        assert svc.active_newsletter_consents(cees)
        page = client.get(path).get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert client.post(path, data={"csrf_token": token}).status_code == 200
        assert not svc.active_newsletter_consents(cees)

        one_click = client.post(
            f"/newsletter/unsubscribe/{svc.unsubscribe_token(anna)}",
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert one_click.status_code == 200
        assert not svc.active_newsletter_consents(anna)
        # the staff forms keep their CSRF check
        assert (
            client.post("/login", data={"email": "x@example.org", "password": "y"}).status_code
            == 400
        )


def test_communicator_cannot_open_household_data(client, region, people):
    login(client, region.communicator)
    anna = people["anna"]
    for path in (
        f"/households/{anna.id}",
        "/households",
        "/my-day",
        "/pipeline",
        f"/audit/households/{anna.id}/access",
        "/audit",
        "/pipeline/export",
        "/imports",
    ):
        response = client.get(path)
        assert response.status_code in (403, 404), path
        assert "Familjen Anna" not in response.get_data(as_text=True)
    audiences = client.get("/outreach/audiences").get_data(as_text=True)
    assert "Familjen Anna" not in audiences and "anna@example.nl" not in audiences
    nav = re.search(r"<nav.*?</nav>", audiences, re.S).group(0)
    assert "/outreach/audiences" in nav and "/households" not in nav and "/my-day" not in nav


def test_guides_and_admins_do_not_use_audiences(client, region):
    for user in (region.norsjo_guide, region.admin):
        login(client, user)
        assert client.get("/outreach/audiences").status_code == 403
        assert client.post("/outreach/audiences/new", data={"name": "x"}).status_code == 403
    assert db.session.scalar(select(Audience)) is None


def test_audience_edit_and_delete(client, region, people):
    login(client, region.communicator)
    client.post("/outreach/audiences/new", data={"name": "Tyskland", "countries": ["DE"]})
    audience = db.session.scalar(select(Audience))
    page = client.get(f"/outreach/audiences/{audience.id}").get_data(as_text=True)
    assert "1 hushåll" in page and '<option selected value="DE">' in page
    bad = client.post(
        f"/outreach/audiences/{audience.id}",
        data={"name": "Tyskland", "countries": ["XX"], "events": ["999999"]},
    )
    assert bad.status_code == 400 and "Inte ett giltigt val" in bad.get_data(as_text=True)
    db.session.refresh(audience)
    assert audience.filters == {"countries": ["DE"]}
    fair = str(people["fair"].id)
    changed = client.post(
        f"/outreach/audiences/{audience.id}",
        data={"name": "Mässan", "events": [fair], "languages": ["de", "nl"]},
    )
    assert changed.status_code == 302
    db.session.refresh(audience)
    assert audience.name == "Mässan"
    assert audience.filters == {"events": [people["fair"].id], "languages": ["de", "nl"]}
    audience_id = audience.id
    unticked = client.post(f"/outreach/audiences/{audience_id}/delete")
    assert unticked.status_code == 400 and db.session.get(Audience, audience_id) is not None
    done = client.post(f"/outreach/audiences/{audience_id}/delete", data={"delete-confirm": "y"})
    assert done.status_code == 302
    assert db.session.scalar(select(Audience)) is None
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"audience.create", "audience.update", "audience.delete"} <= actions
    assert client.get(f"/outreach/audiences/{audience_id}").status_code == 404


def test_admin_creates_a_communicator_who_lands_on_the_outreach_pages(client, region):
    login(client, region.admin)
    assert "Kommunikatör" in client.get("/admin/users/new").get_data(as_text=True)
    response = client.post(
        "/admin/users/new",
        data={
            "email": "kommunikation@region10.example",
            "name": "Kim Kommunikation",
            "role": "communicator",
            "municipality_code": factories.NORSJO,
            "password": "a long enough password",
            "locale": "sv",
            "active": "y",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "kommunikation@region10.example"))
    assert user.role == Role.COMMUNICATOR and user.municipality_code is None
    login(client, user)
    home = client.get("/")
    assert home.headers["Location"] in ("/outreach/events", "/outreach/audiences")
    settings = client.get("/settings")
    assert settings.status_code == 200 and "/settings/calendar" not in settings.get_data(
        as_text=True
    )


def test_a_communicator_must_set_up_two_factor_login(make_client, region):
    browser = make_client()
    response = browser.post(
        "/login", data={"email": region.communicator.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    assert browser.get("/outreach/audiences").headers["Location"] == "/settings/two-factor"
    assert browser.get("/settings/two-factor").status_code == 200


def test_the_unsubscribe_page_is_translated_into_four_languages():
    from pathlib import Path

    from babel.messages.extract import extract_from_file
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent
    page = root / "templates" / "audiences" / "unsubscribe.html"
    ids = {m[1] for m in extract_from_file("jinja2", str(page), keywords={"_": None})}
    assert len(ids) >= 9
    for lang in ("sv", "de", "nl"):
        with open(
            root / "lotsen" / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb"
        ) as f:
            done = {m.id for m in read_po(f) if m.id and m.string}
        assert ids - done == set(), lang
