"""The right-of-access document as a person sees it: in Chromium, on screen and printed."""

from tests import factories
from tests.test_browser import browser, live_server, page  # noqa: F401  (fixtures)
from tests.test_browser_interest import axe_violations


def test_guide_prints_a_households_data_to_pdf(live_server, page):  # noqa: F811
    base = live_server["url"]
    page.goto(f"{base}/login")
    page.get_by_label("E-post").fill(live_server["email"])
    page.get_by_label("Lösenord").fill(factories.PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(f"{base}/my-day")
    page.goto(f"{base}/households")
    page.get_by_role("link", name="Familjen Lindqvist").click()
    panel = page.locator("section", has=page.get_by_role("heading", name="Vem har tagit del"))
    assert "Anders Forsberg" in panel.inner_text()  # this very view is in the log
    panel.get_by_role("link", name="Dokument (skriv ut som PDF)").click()
    page.get_by_role("heading", level=1, name="Alla uppgifter om Familjen Lindqvist").wait_for()
    assert axe_violations(page) == [], "access document"
    # created (the household and its two members), then this view: four entries so far
    heading = "Vem har tagit del av eller ändrat uppgifterna (4)"
    assert page.get_by_role("heading", name=heading).count() == 1
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()  # no menus on paper
    assert not page.get_by_role("link", name="Ladda ner som JSON").is_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000
    assert page.problems == []
