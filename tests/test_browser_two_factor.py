"""A coordinator sets up two-factor login in a real browser (Chromium): the QR code page
works under the Content-Security-Policy and passes axe-core; the recovery codes show once."""

import threading

import pyotp
import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from lotsen import create_app
from lotsen.accounts.models import Role, User
from lotsen.extensions import db
from tests import factories
from tests.conftest import make_config
from tests.test_browser import browser, page  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    path = tmp_path_factory.mktemp("browser-2fa") / "lotsen.sqlite"
    app = create_app(make_config(f"sqlite:///{path}", WTF_CSRF_ENABLED=True))
    with app.app_context():
        upgrade()
        user = factories.user(Role.COORDINATOR, name="Annika Koordinator", email="k@example.org")
        db.session.commit()
        user_id = user.id
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{httpd.server_port}", "app": app, "user_id": user_id}
    httpd.shutdown()
    with app.app_context():
        db.engine.dispose()


def test_coordinator_enrols_with_the_qr_page_and_sees_recovery_codes_once(server, page):  # noqa: F811
    from tests.test_browser_interest import axe_violations

    base = server["url"]
    page.goto(f"{base}/login")
    page.get_by_label("E-post").fill("k@example.org")
    page.get_by_label("Lösenord").fill(factories.PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(f"{base}/settings/two-factor")
    assert page.get_by_role("img", name="QR-kod för din autentiseringsapp").is_visible()
    assert axe_violations(page) == [], "enrolment page"
    key = page.locator("code").inner_text()
    page.get_by_label("Kod").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Slå på tvåstegsinloggning").click()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert axe_violations(page) == [], "recovery codes"
    page.get_by_role("link", name="Jag har sparat dem").click()
    page.goto(f"{base}/settings/two-factor")
    assert "Oanvända reservkoder: 10" in page.content()
    assert codes[0] not in page.content()  # shown once only
    with server["app"].app_context():
        assert db.session.get(User, server["user_id"]).totp_secret == key
    assert page.problems == []
