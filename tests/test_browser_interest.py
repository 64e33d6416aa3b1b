"""The public interest form in a real browser (Debian's Chromium through Playwright): each
language end to end with the confirmation e-mail on a loopback SMTP server, keyboard only,
and axe-core reporting no WCAG 2.1 AA violations on the form, its errors and the answers."""

import json
import re
import threading

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select
from werkzeug.serving import make_server

from lotsen import ROOT, create_app
from lotsen.accounts.models import Role
from lotsen.clock import now as utcnow
from lotsen.extensions import db
from lotsen.households.models import Household
from lotsen.notifications.services import dispatch_outbox
from tests import factories
from tests.conftest import IN_CI, make_config
from tests.smtp import SmtpServer
from tests.test_browser import CHROMIUM_ARGS, browser  # noqa: F401  (the browser fixture)

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TEXTS = {  # what a visitor sees, per language
    "sv": {
        "first": "Förnamn",
        "last": "Efternamn",
        "email": "E-post",
        "send": "Skicka",
        "sent": "Titta i din e-post",
        "confirm": "Bekräfta",
        "thanks": "Ditt intresse är bekräftat",
    },
    "en": {
        "first": "First name",
        "last": "Last name",
        "email": "E-mail",
        "send": "Send",
        "sent": "Check your e-mail",
        "confirm": "Confirm",
        "thanks": "Your interest is confirmed",
    },
    "de": {
        "first": "Vorname",
        "last": "Nachname",
        "email": "E-Mail",
        "send": "Senden",
        "sent": "Prüfen Sie Ihre E-Mails",
        "confirm": "Bestätigen",
        "thanks": "Ihr Interesse ist bestätigt",
    },
    "nl": {
        "first": "Voornaam",
        "last": "Achternaam",
        "email": "E-mail",
        "send": "Versturen",
        "sent": "Controleer uw e-mail",
        "confirm": "Bevestigen",
        "thanks": "Uw interesse is bevestigd",
    },
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    smtp = SmtpServer().start()
    path = tmp_path_factory.mktemp("interest") / "lotsen.sqlite"
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
        factories.user(Role.GUIDE, factories.NORSJO, email="lots.norsjo@example.org")
        factories.user(Role.GUIDE, factories.MALA, email="lots.mala@example.org")
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["BASE_URL"] = f"http://127.0.0.1:{server.server_port}"  # links in e-mails
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"app": app, "url": app.config["BASE_URL"], "smtp": smtp}
    server.shutdown()
    smtp.stop()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def page(browser):  # noqa: F811
    context = browser.new_context(locale="en-GB", bypass_csp=False)
    page = context.new_page()
    yield page
    context.close()


def send_outbox(site):
    with site["app"].app_context():
        dispatch_outbox(utcnow())


def link_for(site, email: str) -> str:
    mail = [m for m in site["smtp"].messages if m["To"] == email][-1]
    return re.search(r"http://\S+/interest/confirm/\S+", mail.get_content()).group(0)


def households_with(site, email: str) -> int:
    with site["app"].app_context():
        return db.session.scalar(select(func.count()).where(Household.email == email))


def fill_and_send(page, lang: str, email: str):
    t = TEXTS[lang]
    page.get_by_label(t["first"], exact=True).fill("Eva")
    page.get_by_label(t["last"], exact=True).fill(f"Bakker-{lang}")
    page.get_by_label(t["email"], exact=True).fill(email)
    page.locator("#children").fill("3, 7")
    page.locator("#consent").check()
    page.wait_for_timeout(1100)  # people take longer than the minimum fill time
    page.get_by_role("button", name=t["send"]).click()
    page.get_by_role("heading", name=t["sent"]).wait_for()


@pytest.mark.parametrize("lang", ["sv", "en", "de", "nl"])
def test_each_language_end_to_end(site, page, lang):
    base, email = site["url"], f"eva.{lang}@example.nl"
    page.goto(f"{base}/interest?lang={lang}&kommun={factories.NORSJO}")
    assert page.locator("html").get_attribute("lang") == lang
    fill_and_send(page, lang, email)
    assert households_with(site, email) == 0
    send_outbox(site)
    page.goto(link_for(site, email))
    page.get_by_role("button", name=TEXTS[lang]["confirm"]).click()
    page.get_by_text(TEXTS[lang]["thanks"]).wait_for()
    assert households_with(site, email) == 1

    # the household is in the Norsjö guide's list
    page.goto(f"{base}/login?lang=sv")
    page.get_by_label("E-post").fill("lots.norsjo@example.org")
    page.get_by_label("Lösenord").fill(factories.PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(f"{base}/my-day")
    page.goto(f"{base}/households?q={email}")
    assert page.get_by_role("link", name=f"Familjen Bakker-{lang}").count() == 1


def test_same_email_again_gives_no_duplicate(site, page):
    email = "twice@example.nl"
    for _ in range(2):
        page.goto(f"{site['url']}/interest?lang=nl&kommun={factories.MALA}")
        fill_and_send(page, "nl", email)
        send_outbox(site)
        page.goto(link_for(site, email))
        page.get_by_role("button", name="Bevestigen").click()
        page.get_by_text("Uw interesse is bevestigd").wait_for()
    assert households_with(site, email) == 1


def test_form_can_be_completed_by_keyboard_alone(site, page):
    email = "keys@example.nl"
    page.goto(f"{site['url']}/interest?lang=en&kommun={factories.MALA}")

    def tab_to(element_id: str, limit: int = 60):
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == element_id:
                return
        raise AssertionError(f"Tab never reached #{element_id}")

    tab_to("first_name")
    page.keyboard.type("Kees")
    page.keyboard.press("Tab")
    page.keyboard.type("Jansen")
    page.keyboard.press("Tab")
    page.keyboard.type(email)
    tab_to("consent")
    page.keyboard.press("Space")
    page.wait_for_timeout(1100)
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "submit":
            break
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Check your e-mail").wait_for()
    send_outbox(site)
    page.goto(link_for(site, email))
    page.keyboard.press("Tab")
    for _ in range(20):
        if page.evaluate("document.activeElement.type") == "submit":
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.get_by_text("Your interest is confirmed").wait_for()
    assert households_with(site, email) == 1


def axe_violations(page) -> list[str]:
    if not AXE.exists():
        message = f"{AXE} is missing: run npm install (axe-core). Accessibility checks skipped."
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    # evaluate() runs as the browser's own tooling, so the page's CSP does not stop it
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA
    )
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}x) {json.dumps(v['nodes'][0]['target'])}"
        for v in result["violations"]
    ]


@pytest.mark.parametrize("lang", ["sv", "en", "de", "nl"])
def test_no_accessibility_violations(site, page, lang):
    base = site["url"]
    page.goto(f"{base}/interest?lang={lang}")
    assert axe_violations(page) == [], "form"
    page.get_by_role("button", name=TEXTS[lang]["send"]).click()  # empty: the error state
    page.locator(".error-summary").wait_for()
    assert axe_violations(page) == [], "errors"
    fill_and_send(page, lang, f"axe.{lang}@example.nl")
    assert axe_violations(page) == [], "sent"
    send_outbox(site)
    page.goto(link_for(site, f"axe.{lang}@example.nl"))
    assert axe_violations(page) == [], "confirm"
    page.get_by_role("button", name=TEXTS[lang]["confirm"]).click()
    page.get_by_text(TEXTS[lang]["thanks"]).wait_for()
    assert axe_violations(page) == [], "thanks"
    for path in ("/privacy", "/accessibility"):
        page.goto(f"{base}{path}?lang={lang}")
        assert axe_violations(page) == [], path
