"""Every staff page on a phone (390 × 844, Chromium): no sideways scrolling, tap targets a
thumb can hit, and axe-core still finds nothing. The pages come from the URL map, like the
permission test, so a new page is checked without anyone remembering to add it."""

import threading

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from lotsen import clock, create_app
from lotsen.access import PUBLIC
from lotsen.accounts.models import Role
from lotsen.audiences.services import save_audience
from lotsen.contacts.services import log_contact
from lotsen.events.signups import sign_up
from lotsen.events.vocab import SignupChannel
from lotsen.extensions import db
from lotsen.followups.services import create_followup
from lotsen.imports.services import upload
from tests import factories
from tests.conftest import make_config
from tests.test_browser import browser  # noqa: F401  (the Chromium fixture)
from tests.test_browser_interest import axe_violations
from tests.test_events import event

PHONE = {"width": 390, "height": 844}
STAFF_ROLES = (Role.GUIDE, Role.COORDINATOR, Role.ADMIN, Role.COMMUNICATOR)


@pytest.fixture(scope="module")
def phone_site(tmp_path_factory):
    path = tmp_path_factory.mktemp("phone") / "lotsen.sqlite"
    # The communicator logs in without a second factor here, so that their own pages are
    # checked, not the enrolment page every page redirects to before enrolment. (Coordinators
    # and admins still meet that redirect here: their pages are not reached.)
    config = make_config(
        f"sqlite:///{path}", WTF_CSRF_ENABLED=True, TOTP_REQUIRED_ROLES=("coordinator", "admin")
    )
    app = create_app(config)
    with app.app_context():
        upgrade()
        users = {
            Role.GUIDE: factories.user(name="Anders Forsberg", email="guide@example.org"),
            Role.COORDINATOR: factories.user(
                Role.COORDINATOR, municipality=None, email="coordinator@example.org"
            ),
            Role.ADMIN: factories.user(Role.ADMIN, municipality=None, email="admin@example.org"),
            Role.COMMUNICATOR: factories.user(
                Role.COMMUNICATOR, municipality=None, email="communicator@example.org"
            ),
        }
        guide = users[Role.GUIDE]
        household = factories.household(
            guide=guide,
            name="Familjen Wikström-Holmgren van den Berg",  # a long name must wrap, not push
            email="eva.wikstrom.holmgren.vandenberg@example.nl",
            tags=["gård med stall", "distansarbete"],
        )
        log_contact(household, guide, channel="phone", direction="out", summary="Första samtalet")
        create_followup(household, due_on=clock.today(), by=guide, title="Ring om visningsresan")
        listing, job, match = factories.listing_job_match(household, guide)
        batch = upload(guide, "lista.csv", "Namn;Kommun\nFamiljen Ek;Norsjö\n".encode())
        fair = event(
            guide, capacity=1, name="Emigratiebeurs Utrecht – de grote beurs voor emigranten"
        )
        sign_up(fair, household, channel=SignupChannel.STAFF, by=guide, people=4)
        # waiting, and outside the guide's scope (the household list keeps one card)
        waiting = factories.household(factories.MALA, name="Familie de Vries-van Oranje-Nassau")
        sign_up(fair, waiting, channel=SignupChannel.PUBLIC, by=None)
        event(guide, name="Webbinarium: att bo och arbeta i inlandet", days=60)
        audience = save_audience(
            None,
            name="Nederländare som varit på mässan i Utrecht",
            filters={"countries": ["NL"], "languages": ["nl"]},
            notes="Till decembernumret",
            by=users[Role.COORDINATOR],
        )
        db.session.commit()
        args = {
            "household_id": household.id,
            "user_id": guide.id,
            "listing_id": listing.id,
            "job_id": job.id,
            "match_id": match.id,
            "batch_id": batch.id,
            "audience_id": audience.id,
            "event_id": fair.id,
        }
        pages = {}
        for rule in app.url_map.iter_rules():
            view = app.view_functions[rule.endpoint]
            roles = getattr(view, "access", frozenset())
            if "GET" not in rule.methods or PUBLIC in roles or rule.endpoint == "static":
                continue
            url = rule.build({name: args[name] for name in rule.arguments}, append_unknown=False)
            for role in STAFF_ROLES:
                if role in roles:
                    pages.setdefault(role, []).append(url[1])
        emails = {role: user.email for role, user in users.items()}
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "pages": pages, "emails": emails}
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 1 && e.offsetParent !== null)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
         (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ')[0] : ''));
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5)};
}"""

SMALL_TARGETS = """() => [...document.querySelectorAll(
    'main button, main .button, main input:not([type=hidden]), main select, main summary,'
    + ' .site-header a, .site-header button')]
  .filter(e => e.offsetParent !== null)
  .filter(e => {  // a checkbox or radio is tapped through its label
    const box = e.matches('[type=checkbox], [type=radio]') ? e.closest('label, .field') || e : e;
    return box.getBoundingClientRect().height < 44 - 0.5; })
  .map(e => e.tagName.toLowerCase() + (e.name ? '[name=' + e.name + ']' : '') + ' '
       + Math.round(e.getBoundingClientRect().height) + 'px')
  .slice(0, 5)"""


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_pages_fit_a_phone(phone_site, browser, role):  # noqa: F811
    context = browser.new_context(viewport=PHONE, locale="sv-SE", timezone_id="Europe/Stockholm")
    page = context.new_page()
    base = phone_site["url"]
    page.goto(f"{base}/login")
    page.get_by_label("E-post").fill(phone_site["emails"][role])
    page.get_by_label("Lösenord").fill(factories.PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state()
    problems = []
    for path in sorted(phone_site["pages"][role]):
        if "text/html" not in page.request.get(base + path).headers.get("content-type", ""):
            continue  # a download (CSV, XLSX): nothing to lay out
        response = page.goto(base + path)
        assert response.status == 200, path
        found = page.evaluate(OVERFLOW)
        if found["scroll"] > found["width"]:
            problems.append(f"{path}: {found['scroll']} px wide ({found['wide']})")
        small = page.evaluate(SMALL_TARGETS)
        if small:
            problems.append(f"{path}: tap targets under 44 px: {small}")
        violations = axe_violations(page)
        if violations:
            problems.append(f"{path}: {violations}")
    context.close()
    assert problems == [], "\n".join(problems)


def test_household_list_is_one_card_per_household_on_a_phone(phone_site, browser):  # noqa: F811
    context = browser.new_context(viewport=PHONE, locale="sv-SE", timezone_id="Europe/Stockholm")
    page = context.new_page()
    base = phone_site["url"]
    page.goto(f"{base}/login")
    page.get_by_label("E-post").fill(phone_site["emails"][Role.GUIDE])
    page.get_by_label("Lösenord").fill(factories.PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state()
    page.goto(f"{base}/households")
    assert page.locator("table.household-table thead").bounding_box()["height"] <= 1  # for AT only
    card = page.locator("table.household-table tbody tr")
    assert card.count() == 1
    box = card.first.bounding_box()
    assert box["width"] <= PHONE["width"] and box["height"] > 100  # one block, not a line
    text = card.first.inner_text()
    for expected in ("Familjen Wikström-Holmgren", "Ny", "Norsjö", clock.today().isoformat()):
        assert expected in text, expected
    labels = page.evaluate(
        """() => [...document.querySelectorAll('table.household-table tbody td[data-label]')]
            .map(td => [td.dataset.label, getComputedStyle(td, '::before').content])"""
    )
    assert [label for label, _ in labels] == ["Senaste kontakt", "Nästa uppföljning"]
    assert all(content != "none" for _, content in labels)  # shown before the dates
    assert "Anders Forsberg" not in text  # the guide's column stays on wide screens
    # on the household page, logging a contact comes before the details on a phone
    card.first.get_by_role("link").first.click()
    contact = page.locator("#summary").bounding_box()
    followups = page.locator("#followups").bounding_box()
    timeline = page.locator("#timeline").bounding_box()
    details = page.locator("#details").bounding_box()
    assert contact["y"] < followups["y"] < timeline["y"]
    assert followups["y"] < details["y"]
    # on a wide screen the table is back
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/households")
    assert page.locator("table.household-table thead").bounding_box()["height"] > 20
    assert page.get_by_role("cell", name="Anders Forsberg").is_visible()
    context.close()
