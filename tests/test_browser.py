"""A guide's day in a real browser: Debian's Chromium, driven by Playwright.

Runs the app on a loopback port with its own SQLite database. Without Chromium the test is
skipped with a message (under CI=true it fails instead).
"""

import shutil
import threading

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from lotsen import create_app
from lotsen.extensions import db
from tests import factories
from tests.conftest import IN_CI, make_config

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    path = tmp_path_factory.mktemp("browser") / "lotsen.sqlite"
    app = create_app(make_config(f"sqlite:///{path}", WTF_CSRF_ENABLED=True))
    with app.app_context():
        upgrade()
        guide = factories.user(
            municipality=factories.NORSJO, name="Anders Forsberg", email="lots.norsjo@example.org"
        )
        mala = factories.household(factories.MALA, name="Familjen Malå")
        factories.household(factories.NORSJO, guide=guide, name="Familjen Lindqvist")
        factories.listing(factories.NORSJO, title="Trea på Storgatan")
        db.session.commit()
        email, hidden_id = guide.email, mala.id
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "email": email, "hidden_id": hidden_id}
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        message = "Chromium is not installed (apt-get install chromium): browser tests skipped."
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    page = context.new_page()
    page.problems = []
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and not m.text.startswith("Failed to load resource")  # 4xx pages are expected here
            and page.problems.append(m.text)
        ),
    )
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    yield page
    context.close()


def test_guide_registers_a_household_and_logs_a_contact(live_server, page):
    base = live_server["url"]
    page.goto(f"{base}/households")
    assert page.url.startswith(f"{base}/login")
    page.get_by_label("E-post").fill(live_server["email"])
    page.get_by_label("Lösenord").fill(factories.PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(f"{base}/households")  # where the login page was asked for

    page.get_by_role("link", name="Nytt hushåll").first.click()
    page.get_by_label("Hushållets namn").fill("Familjen Bakker")
    page.get_by_label("E-post").fill("eva.bakker@example.nl")
    page.get_by_label("Telefon").fill("+31 6 23456789")
    page.get_by_label("Land").select_option("NL")
    page.locator("#persons-0-first_name").fill("Eva")
    page.locator("#persons-0-last_name").fill("Bakker")
    page.locator("#persons-0-occupation").fill("Grundskollärare")
    page.locator("#persons-0-seeks_job").check()
    page.get_by_role("button", name="Spara").click()
    page.get_by_text("Hushållet har registrerats.").wait_for()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Familjen Bakker")

    # Log a call by keyboard alone: the summary, then Tab to the button and Enter.
    page.get_by_label("Sammanfattning").fill("Första samtalet, intresserade av Norsjö.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.get_by_text("Kontakten har loggats.").wait_for()
    assert "Första samtalet, intresserade av Norsjö." in page.locator("#timeline ~ ol").inner_text()

    page.goto(f"{base}/households?q=bakker")
    assert page.get_by_role("link", name="Familjen Bakker").count() == 1
    page.goto(f"{base}/households?q=Malå")
    assert page.get_by_text("Inga hushåll matchar.").count() == 1
    assert page.problems == []  # no script errors and no Content-Security-Policy violations
    response = page.goto(f"{base}/households/{live_server['hidden_id']}")
    assert response.status == 404


def test_form_errors_are_announced_and_linked(live_server, page):
    base = live_server["url"]
    page.goto(f"{base}/login")
    page.get_by_label("E-post").fill(live_server["email"])
    page.get_by_label("Lösenord").fill(factories.PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(f"{base}/my-day")
    page.goto(f"{base}/households/new")
    page.get_by_label("Telefon").fill("12")
    page.get_by_role("button", name="Spara").click()
    summary = page.get_by_role("alert")
    assert "Rätta följande" in summary.inner_text()
    phone = page.get_by_label("Telefon")
    assert phone.get_attribute("aria-invalid") == "true"
    described = phone.get_attribute("aria-describedby").split()
    assert "phone-error" in described
    assert "Telefonnumret är inte giltigt" in page.locator("#phone-error").inner_text()
    assert page.problems == []


def test_staff_pages_have_no_accessibility_violations(live_server, page):
    """The guides work in these pages all day: WCAG 2.1 AA holds for them too."""
    from tests.test_browser_interest import axe_violations

    base = live_server["url"]
    page.goto(f"{base}/login")
    assert axe_violations(page) == [], "login"
    page.get_by_label("E-post").fill(live_server["email"])
    page.get_by_label("Lösenord").fill(factories.PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(f"{base}/my-day")
    assert axe_violations(page) == [], "my day"
    page.goto(f"{base}/households")
    assert axe_violations(page) == [], "list"
    page.goto(f"{base}/households/new")
    assert axe_violations(page) == [], "new household"
    page.get_by_role("button", name="Spara").click()
    page.locator(".error-summary").wait_for()
    assert axe_violations(page) == [], "new household, errors"
    page.goto(f"{base}/households")
    page.get_by_role("link", name="Familjen Lindqvist").click()
    assert axe_violations(page) == [], "household page"
    page.goto(f"{base}/settings")
    assert axe_violations(page) == [], "settings"
    for path in ("/listings", "/listings/new", "/jobs", "/jobs/import"):
        page.goto(f"{base}{path}")
        assert axe_violations(page) == [], path
    page.get_by_role("link", name="Bostäder").click()
    page.get_by_role("link", name="Trea på Storgatan").click()
    assert axe_violations(page) == [], "listing page"
