"""Seen as a user, end to end in a real browser (issue 15, item 9): a German mover fills in
the interest form on a phone, then the Norsjö guide opens the household on hers. The
timeframe is shown in the guide's language, a child given by age reads "Barn, 4 år", and a
long e-mail address stays inside the details card."""

from sqlalchemy import select

from lotsen.extensions import db
from lotsen.households.models import Household
from lotsen.households.vocab import Timeframe
from tests import factories
from tests.test_browser import browser  # noqa: F401  (the browser fixture)
from tests.test_browser_interest import link_for, send_outbox, site  # noqa: F401  (fixture)

WIDTH = 390  # CSS pixels of a common phone
PHONE = {"viewport": {"width": WIDTH, "height": 844}, "is_mobile": True, "has_touch": True}
EMAIL = "jonas.maximilian.weberschneidermeister.familie@beispielmitlangemnamen.example.de"

BEYOND = """width => [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > width + 1)
    .map(e => e.tagName + (e.id ? "#" + e.id : "") + ": " + e.textContent.trim().slice(0, 40))"""


def beyond_the_screen(page) -> list[str]:
    """The elements that run out of the right edge of the phone's screen."""
    return page.evaluate(BEYOND, WIDTH)


def test_german_mover_on_a_phone_then_the_norsjo_guide(site, browser):  # noqa: F811
    base = site["url"]
    mover = browser.new_context(locale="de-DE", **PHONE).new_page()
    mover.goto(f"{base}/interest?lang=de&kommun={factories.NORSJO}")
    mover.get_by_label("Vorname", exact=True).fill("Jonas")
    mover.get_by_label("Nachname", exact=True).fill("Weber")
    mover.get_by_label("E-Mail", exact=True).fill(EMAIL)
    mover.locator("#children").fill("4")
    mover.locator("#timeframe").select_option(label="Innerhalb von sechs Monaten")
    mover.locator("#consent").check()
    # nothing runs out of the phone's screen (long country names once did)
    assert beyond_the_screen(mover) == []
    mover.wait_for_timeout(1100)  # the form's minimum fill time
    mover.get_by_role("button", name="Senden").click()
    mover.get_by_role("heading", name="Prüfen Sie Ihre E-Mails").wait_for()
    send_outbox(site)
    mover.goto(link_for(site, EMAIL))
    mover.get_by_role("button", name="Bestätigen").click()
    mover.get_by_text("Ihr Interesse ist bestätigt").wait_for()
    with site["app"].app_context():
        h = db.session.scalars(select(Household).where(Household.email == EMAIL)).one()
        assert (h.timeframe_code, h.timeframe) == (Timeframe.SIX_MONTHS, None)  # a code
        household_id = h.id

    guide = browser.new_context(locale="sv-SE", **PHONE).new_page()
    guide.goto(f"{base}/login?lang=sv")
    guide.get_by_label("E-post").fill("lots.norsjo@example.org")
    guide.get_by_label("Lösenord").fill(factories.PASSWORD)
    guide.get_by_role("button", name="Logga in").click()
    guide.wait_for_url(f"{base}/my-day")
    guide.goto(f"{base}/households/{household_id}")
    details = guide.locator("section[aria-labelledby=details]")
    text = details.inner_text()
    assert "Inom sex månader" in text and "Innerhalb" not in text
    members = guide.locator("section[aria-labelledby=members]").inner_text()
    assert "Barn, 4 år" in members and "?" not in members
    # the long address wraps inside the card instead of running out of it
    overflow = details.evaluate(
        """card => {
            const box = card.getBoundingClientRect();
            const link = card.querySelector('a[href^="mailto:"]').getBoundingClientRect();
            return {card: box.right, link: link.right};
        }"""
    )
    assert overflow["link"] <= overflow["card"] <= WIDTH, overflow
    assert beyond_the_screen(guide) == []
