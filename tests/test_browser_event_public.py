"""An event's public sign-up page in a real browser (Debian's Chromium through Playwright):
signing up with JavaScript switched off, confirming from the e-mail on a loopback SMTP
server, cancelling from the next e-mail; axe-core finds no WCAG 2.1 AA violations on the
page, its error state and every answer page, in all four languages."""

import re
import threading
from datetime import timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import select
from werkzeug.serving import make_server

from lotsen import create_app
from lotsen.clock import now as utcnow
from lotsen.events.models import Event, EventSignup
from lotsen.events.vocab import EventStatus, EventType
from lotsen.extensions import db
from lotsen.households.models import Household
from lotsen.notifications.services import dispatch_outbox
from lotsen.regions.models import Municipality
from tests import factories
from tests.conftest import make_config
from tests.smtp import SmtpServer
from tests.test_browser import browser  # noqa: F401  (the browser fixture)
from tests.test_browser_interest import axe_violations

TEXTS = {
    "sv": ("Förnamn", "Efternamn", "E-post", "Anmäl dig", "Titta i din e-post", "Bekräfta"),
    "en": ("First name", "Last name", "E-mail", "Sign up", "Check your e-mail", "Confirm"),
    "de": ("Vorname", "Nachname", "E-Mail", "Anmelden", "Prüfen Sie Ihre E-Mails", "Bestätigen"),
    "nl": ("Voornaam", "Achternaam", "E-mail", "Aanmelden", "Controleer uw e-mail", "Bevestigen"),
}
STARTS = utcnow().replace(microsecond=0) + timedelta(days=30)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    smtp = SmtpServer().start()
    path = tmp_path_factory.mktemp("event_public") / "lotsen.sqlite"
    app = create_app(
        make_config(
            f"sqlite:///{path}",
            WTF_CSRF_ENABLED=True,
            INTEREST_MIN_FILL_SECONDS=1,
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=smtp.port,
        )
    )
    with app.app_context():
        upgrade()
        event = Event(
            slug="visit-norsjo",
            name="Besöksweekend i Norsjö",
            kind=EventType.VISIT_TRIP,
            status=EventStatus.OPEN,
            starts_at=STARTS,
            ends_at=STARTS + timedelta(days=2),
            place="Norsjö",
            country="SE",
            capacity=20,
            descriptions={"sv": "Två dagar i Norsjö.", "en": "Two days in Norsjö."},
        )
        event.municipalities = [db.session.get(Municipality, factories.NORSJO)]
        db.session.add(event)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["BASE_URL"] = f"http://127.0.0.1:{server.server_port}"  # links in e-mails
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"app": app, "url": app.config["BASE_URL"], "smtp": smtp}
    server.shutdown()
    smtp.stop()
    with app.app_context():
        db.engine.dispose()


def new_page(browser, javascript: bool):  # noqa: F811
    context = browser.new_context(locale="en-GB", java_script_enabled=javascript)
    return context, context.new_page()


def send_outbox(site):
    with site["app"].app_context():
        dispatch_outbox(utcnow())


def link_for(site, email: str, kind: str) -> str:
    mail = [m for m in site["smtp"].messages if m["To"] == email][-1]
    body = mail.get_body(("plain",)).get_content()
    return re.search(rf"http://\S+/events/{kind}/\S+", body).group(0)


def fill_and_send(page, lang: str, email: str):
    first, last, mail, send, sent, _ = TEXTS[lang]
    page.get_by_label(first, exact=True).fill("Eva")
    page.get_by_label(last, exact=True).fill(f"Bakker-{lang}")
    page.get_by_label(mail, exact=True).fill(email)
    page.locator("#people").fill("2")
    page.locator("#consent").check()
    page.wait_for_timeout(1100)  # people take longer than the minimum fill time
    page.get_by_role("button", name=send).click()
    page.get_by_role("heading", name=sent).wait_for()


def signup_status(site, email: str) -> str | None:
    with site["app"].app_context():
        return db.session.scalar(
            select(EventSignup.status)
            .join(Household, Household.id == EventSignup.household_id)
            .where(Household.email == email)
        )


def test_sign_up_confirm_and_cancel_without_javascript(site, browser):  # noqa: F811
    context, page = new_page(browser, javascript=False)
    try:
        email = "nojs@example.nl"
        page.goto(f"{site['url']}/events/visit-norsjo?lang=nl")
        assert page.locator("html").get_attribute("lang") == "nl"
        page.get_by_text("Två dagar i Norsjö.").wait_for()  # no Dutch text: the Swedish one
        fill_and_send(page, "nl", email)
        assert signup_status(site, email) is None  # not before the link is confirmed
        send_outbox(site)
        page.goto(link_for(site, email, "confirm"))
        page.get_by_role("button", name="Bevestigen").click()
        page.get_by_text("U bent aangemeld voor Besöksweekend i Norsjö").wait_for()
        assert signup_status(site, email) == "registered"
        send_outbox(site)
        page.goto(link_for(site, email, "cancel"))
        page.get_by_role("button", name="Mijn aanmelding annuleren").click()
        page.get_by_text("Uw aanmelding is geannuleerd").wait_for()
        assert signup_status(site, email) == "cancelled"
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["sv", "en", "de", "nl"])
def test_no_accessibility_violations(site, browser, lang):  # noqa: F811
    context, page = new_page(browser, javascript=True)
    try:
        base, email = site["url"], f"axe.{lang}@example.nl"
        page.goto(f"{base}/events/visit-norsjo?lang={lang}")
        assert axe_violations(page) == [], "page"
        page.get_by_role("button", name=TEXTS[lang][3]).click()  # empty: the error state
        page.locator(".error-summary").wait_for()
        assert axe_violations(page) == [], "errors"
        fill_and_send(page, lang, email)
        assert axe_violations(page) == [], "sent"
        send_outbox(site)
        page.goto(link_for(site, email, "confirm"))
        assert axe_violations(page) == [], "confirm"
        page.get_by_role("button", name=TEXTS[lang][5]).click()
        page.locator("h1").wait_for()
        assert axe_violations(page) == [], "thanks"
        send_outbox(site)
        page.goto(link_for(site, email, "cancel"))
        assert axe_violations(page) == [], "cancel"
    finally:
        context.close()
