"""The pipeline in a real browser (Debian's Chromium through Playwright): the dashboard's
figures and charts, a household moved on the board by keyboard alone, and axe-core finding
no WCAG 2.1 AA violations. Screenshots go to test-artifacts/ (kept by CI)."""

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from lotsen import create_app
from lotsen.db import utcnow
from lotsen.extensions import db
from lotsen.households.services import change_stage
from tests import factories
from tests.conftest import make_config
from tests.test_browser import browser, page  # noqa: F401  (fixtures)
from tests.test_browser_interest import axe_violations

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="module")
def pipeline_server(tmp_path_factory):
    path = tmp_path_factory.mktemp("pipeline") / "lotsen.sqlite"
    app = create_app(make_config(f"sqlite:///{path}", WTF_CSRF_ENABLED=True))
    with app.app_context():
        upgrade()
        guide = factories.user(
            municipality=factories.NORSJO, name="Anders Forsberg", email="lots@example.org"
        )
        start = utcnow() - timedelta(days=200)
        for i, stage in enumerate(["contacted", "planning", "visit", "decided", "moved_in"]):
            h = factories.household(
                factories.NORSJO, guide=guide, name=f"Familjen Berg {i}", source="fair",
                at=start + timedelta(days=i),
            )  # fmt: skip
            change_stage(h, stage, guide, at=start + timedelta(days=30 + i))
        factories.household(factories.NORSJO, guide=guide, name="Familjen Lindqvist")
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


def test_guide_reads_the_dashboard_and_moves_a_household_by_keyboard(pipeline_server, page):  # noqa: F811
    base = pipeline_server
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{base}/login")
    page.get_by_label("E-post").fill("lots@example.org")
    page.get_by_label("Lösenord").fill(factories.PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(f"{base}/my-day")

    page.goto(f"{base}/pipeline")
    assert page.get_by_role("heading", level=1).inner_text() == "Regional pipeline"
    assert page.get_by_role("img", name="Nya intressenter per månad").count() == 1
    assert page.get_by_role("heading", name="Konvertering mellan steg").count() == 1
    page.screenshot(path=str(ARTIFACTS / "pipeline-dashboard.png"), full_page=True)
    assert axe_violations(page) == [], "dashboard"

    page.goto(f"{base}/pipeline/board")
    assert axe_violations(page) == [], "board"
    new_column = page.locator("section.board-column", has=page.locator("#col-new"))
    assert new_column.get_by_role("link", name="Familjen Lindqvist").count() == 1
    # keyboard alone: from the card's link, Tab to its first button and press Enter
    page.get_by_role("link", name="Familjen Lindqvist").focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert focused == "Flytta Familjen Lindqvist till Kontaktad"
    page.keyboard.press("Enter")
    page.get_by_text("Familjen Lindqvist har flyttats till Kontaktad.").wait_for()
    contacted = page.locator("section.board-column", has=page.locator("#col-contacted"))
    assert contacted.get_by_role("link", name="Familjen Lindqvist").count() == 1
    assert new_column.get_by_role("link", name="Familjen Lindqvist").count() == 0
    page.screenshot(path=str(ARTIFACTS / "pipeline-board.png"), full_page=True)
    assert axe_violations(page) == [], "board after a move"

    page.goto(f"{base}/pipeline/report")
    assert axe_violations(page) == [], "quarterly report"
    assert page.problems == []
