"""Every staff page on a phone (390 × 844, Chromium): no sideways scrolling, tap targets a
thumb can hit, input types and autocomplete a phone's keyboard and autofill can use, and
axe-core still finds nothing. Each role logs in as it really does (a second factor where the
role requires one), so its own pages are checked, not the login or enrolment page. The pages
come from the URL map, like the permission test, so a new page is checked without anyone
remembering to add it."""

import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pyotp
import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from lotsen import clock, create_app
from lotsen.access import PUBLIC
from lotsen.accounts import two_factor
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
    # Coordinators and admins log in as they really do, with the default settings: their
    # role requires a second factor, enrolled below and given at each login in the browser.
    config = make_config(f"sqlite:///{path}", WTF_CSRF_ENABLED=True)
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
        household.first_event_id = fair.id  # a lead: the outcome figures link to the list
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
        secrets = {}
        for role, user in users.items():
            if two_factor.required_for(user):
                secrets[role] = two_factor.new_secret()
                # enrolled with the previous step's code, so that the login below may use the
                # current one (a step already used is refused, as it should be)
                earlier = pyotp.TOTP(secrets[role]).at(clock.now() - timedelta(seconds=30))
                assert two_factor.enrol(user, secrets[role], earlier, "127.0.0.1")
        db.session.commit()
        emails = {role: user.email for role, user in users.items()}
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {
        "url": f"http://127.0.0.1:{server.server_port}",
        "pages": pages,
        "emails": emails,
        "secrets": secrets,
    }
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


# A phone shows the keyboard the input type asks for, and fills in what autocomplete says (or,
# with "off", leaves alone someone else's address or name that it would fill with the user's).
FIELDS = """() => [...document.querySelectorAll('main input')].flatMap(e => {
  const name = e.name.replace(/^.*-/, '');  // without a form prefix (pw-, persons-0-)
  const wants = /(^|_)e?mail$/.test(name) ? 'email' : /(^|_)(phone|tel)$/.test(name) ? 'tel'
    : /(^|_)url$/.test(name) ? 'url' : /password$/.test(name) ? 'password' : null;
  const found = [];
  if (wants && e.type !== wants) found.push(`${e.name}: type ${e.type}, not ${wants}`);
  if (['email', 'tel', 'password'].includes(e.type) && !e.getAttribute('autocomplete'))
    found.push(`${e.name}: no autocomplete`);
  return found;
})"""

# A table squeezed into a phone breaks its words into a few letters a line ("Komm / un"):
# such a table should scroll, or show its rows as cards. (Words only: an e-mail address or
# a field_name may wrap anywhere.)
BROKEN_WORDS = r"""() => {
  const found = [];
  for (const cell of document.querySelectorAll('main td, main th')) {
    if (cell.offsetParent === null || cell.getBoundingClientRect().width <= 1) continue;
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const word of node.data.matchAll(/(?<=^|\s)\p{L}{2,20}(?=$|[\s,.;:)])/gu)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        if (new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1)
          found.push(word[0]);
      }
    }
  }
  return found.slice(0, 5);
}"""

# where a page that was not reached ends up: checking those instead would pass unnoticed
GATES = ("/login", "/login/code", "/settings/two-factor")


def phone_problems(page, path: str) -> list[str]:
    problems = []
    found = page.evaluate(OVERFLOW)
    if found["scroll"] > found["width"]:
        problems.append(f"{path}: {found['scroll']} px wide ({found['wide']})")
    small = page.evaluate(SMALL_TARGETS)
    if small:
        problems.append(f"{path}: tap targets under 44 px: {small}")
    broken = page.evaluate(BROKEN_WORDS)
    if broken:
        problems.append(f"{path}: words broken in table cells: {broken}")
    fields = page.evaluate(FIELDS)
    if fields:
        problems.append(f"{path}: form fields: {fields}")
    violations = axe_violations(page)
    if violations:
        problems.append(f"{path}: {violations}")
    return problems


def log_in(page, site, role) -> list[str]:
    """Log in as ``role`` the way they really do: the password, then (for the roles that
    require it) a code from their authenticator app. Returns what the code page's check found."""
    base = site["url"]
    page.goto(f"{base}/login")
    page.get_by_label("E-post").fill(site["emails"][role])
    page.get_by_label("Lösenord").fill(factories.PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state()
    problems = []
    if role in site["secrets"]:
        assert urlsplit(page.url).path == "/login/code", page.url
        problems = phone_problems(page, "/login/code")
        page.get_by_label("Kod").fill(pyotp.TOTP(site["secrets"][role]).now())
        page.get_by_role("button", name="Logga in").click()
        page.wait_for_load_state()
    assert urlsplit(page.url).path not in GATES, f"{role}: not logged in ({page.url})"
    return problems


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_pages_fit_a_phone(phone_site, browser, role):  # noqa: F811
    context = browser.new_context(viewport=PHONE, locale="sv-SE", timezone_id="Europe/Stockholm")
    page = context.new_page()
    base = phone_site["url"]
    problems = log_in(page, phone_site, role)
    checked = 0
    for path in sorted(phone_site["pages"][role]):
        if "text/html" not in page.request.get(base + path).headers.get("content-type", ""):
            continue  # a download (CSV, XLSX): nothing to lay out
        response = page.goto(base + path)
        assert response.status == 200, path
        landed = urlsplit(page.url).path
        assert landed == path or landed not in GATES, f"{path} was not reached: {page.url}"
        problems += phone_problems(page, path)
        checked += 1
    context.close()
    assert checked > 5, f"{role}: only {checked} pages checked"
    assert problems == [], "\n".join(problems)


def test_household_list_is_one_card_per_household_on_a_phone(phone_site, browser):  # noqa: F811
    context = browser.new_context(viewport=PHONE, locale="sv-SE", timezone_id="Europe/Stockholm")
    page = context.new_page()
    base = phone_site["url"]
    log_in(page, phone_site, Role.GUIDE)
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
