"""Lead capture at the stand in a real browser (Debian's Chromium through Playwright): three
leads captured with the network off are kept on the phone (also across a reload without
network, served by the service worker) and sent once the network is back — exactly three
households; CSP holds (no inline script) and axe reports no WCAG 2.1 AA violations."""

import threading
from datetime import timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select
from werkzeug.serving import make_server

from lotsen import create_app
from lotsen.clock import now as utcnow
from lotsen.events.models import Event, LeadCapture
from lotsen.events.vocab import EventStatus, EventType
from lotsen.extensions import db
from lotsen.households.models import Household
from lotsen.regions.models import Municipality
from tests import factories
from tests.conftest import make_config
from tests.test_browser import browser  # noqa: F401  (the browser fixture)
from tests.test_browser_interest import axe_violations


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    path = tmp_path_factory.mktemp("capture") / "lotsen.sqlite"
    app = create_app(make_config(f"sqlite:///{path}", WTF_CSRF_ENABLED=True))
    with app.app_context():
        upgrade()
        guide = factories.user(municipality=factories.NORSJO, email="lots.norsjo@example.org")
        start = utcnow() - timedelta(hours=1)
        event = Event(
            slug="emigratiebeurs-houten",
            name="Emigratiebeurs Houten",
            kind=EventType.FAIR,
            status=EventStatus.OPEN,
            starts_at=start,
            ends_at=start + timedelta(hours=8),
            country="NL",
            municipalities=[db.session.get(Municipality, factories.NORSJO)],
        )
        db.session.add(event)
        db.session.commit()
        email, event_id = guide.email, event.id
    seen: list[str] = []  # the paths the server was asked for

    def counting(environ, start_response):
        seen.append(environ["PATH_INFO"])
        return app.wsgi_app(environ, start_response)

    server = make_server("127.0.0.1", 0, counting, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {
        "app": app,
        "url": f"http://127.0.0.1:{server.server_port}",
        "email": email,
        "event_id": event_id,
        "seen": seen,
    }
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def context(browser):  # noqa: F811
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    yield context
    context.close()


def watch(page) -> list[str]:
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and not m.text.startswith("Failed to load resource")  # the network is off
            and problems.append(m.text)
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def stored(site) -> tuple[int, int]:
    with site["app"].app_context():
        households = db.session.scalar(select(func.count()).select_from(Household))
        leads = db.session.scalar(select(func.count()).select_from(LeadCapture))
        return households, leads


def log_in(page, site, next_path: str) -> None:
    page.goto(f"{site['url']}/login?next={next_path}")
    page.get_by_label("E-post").fill(site["email"])
    page.get_by_label("Lösenord").fill(factories.PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(f"{site['url']}{next_path}")


def waiting(page, n: int) -> None:
    page.locator(f'#capture-waiting[data-waiting="{n}"]').wait_for()


def test_three_leads_offline_are_sent_once_when_the_network_returns(site, context):
    page = context.new_page()
    problems = watch(page)
    path = f"/outreach/events/{site['event_id']}/capture"
    log_in(page, site, path)
    assert axe_violations(page) == [], "capture page"
    page.locator("#capture[data-offline-ready]").wait_for()  # the worker keeps the page
    waiting(page, 0)

    context.set_offline(True)
    for n, name in enumerate(("Eva de Vries", "Jan Bakker", "Anna Schmidt"), start=1):
        page.get_by_label("Namn").fill(name)
        page.get_by_label("E-post").fill(f"{name.split()[0].lower()}@example.nl")
        page.locator("#consent_contact").check()
        page.get_by_role("button", name="Spara").click()
        waiting(page, n)
    assert "3 registreringar väntar" in page.locator("#capture-waiting").inner_text()
    assert stored(site) == (0, 0)

    asked = len(site["seen"])
    reloaded = page.reload()  # no network: the service worker's copy, the queue from IndexedDB
    assert reloaded.ok and reloaded.from_service_worker
    waiting(page, 3)
    assert site["seen"][asked:] == []  # nothing reached the server while offline
    assert page.get_by_label("Namn").input_value() == ""
    assert axe_violations(page) == [], "capture page, captures waiting"
    assert stored(site) == (0, 0)

    context.set_offline(False)  # the browser says "online": the queue is sent
    waiting(page, 0)
    assert stored(site) == (3, 3)
    page.reload()
    waiting(page, 0)
    assert "3 intressenter registrerade" in page.content()
    assert stored(site) == (3, 3)
    assert problems == []


def test_a_capture_the_server_refuses_stays_for_the_guide_to_correct(site, context):
    page = context.new_page()
    problems = watch(page)
    path = f"/outreach/events/{site['event_id']}/capture"
    log_in(page, site, path)
    before = stored(site)
    page.get_by_label("Namn").fill("Utan Nummer")
    page.get_by_label("Telefon").fill("12")  # not a phone number: refused by the server
    page.locator("#consent_contact").check()
    page.get_by_role("button", name="Spara").click()
    rejected = page.locator("#capture-rejected")
    rejected.get_by_text("Utan Nummer").wait_for()
    assert "Telefon" in rejected.inner_text()
    assert axe_violations(page) == [], "refused capture"
    rejected.get_by_role("button", name="Rätta").click()
    assert page.get_by_label("Telefon").input_value() == "12"
    page.get_by_label("Telefon").fill("+31 6 12345678")
    page.get_by_role("button", name="Spara").click()
    waiting(page, 0)
    page.get_by_text("Skickade: 1.").wait_for()
    assert rejected.is_hidden()
    assert stored(site) == (before[0] + 1, before[1] + 1)
    assert problems == []


def test_an_ended_session_keeps_the_queue_and_asks_to_log_in(site, context):
    page = context.new_page()
    problems = watch(page)
    path = f"/outreach/events/{site['event_id']}/capture"
    log_in(page, site, path)
    page.locator("#capture[data-offline-ready]").wait_for()
    before = stored(site)
    context.set_offline(True)
    page.get_by_label("Namn").fill("Karin Sessionslös")
    page.get_by_label("E-post").fill("karin@example.de")
    page.locator("#consent_contact").check()
    page.get_by_role("button", name="Spara").click()
    waiting(page, 1)
    context.clear_cookies()  # the session ended during the long fair day
    context.set_offline(False)
    page.get_by_role("link", name="Logga in").wait_for()
    waiting(page, 1)
    assert stored(site) == before
    page.get_by_role("link", name="Logga in").click()
    page.get_by_label("E-post").fill(site["email"])
    page.get_by_label("Lösenord").fill(factories.PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(f"{site['url']}{path}")
    waiting(page, 0)
    assert stored(site) == (before[0] + 1, before[1] + 1)
    assert problems == []
