"""An admin in a real browser (Chromium): the banner of a stopped scheduler leads to the
health page, and both pass axe-core."""

import threading

import pyotp
import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from lotsen import clock, create_app
from lotsen.accounts.models import Role
from lotsen.extensions import db
from tests import factories
from tests.conftest import make_config
from tests.test_browser import browser, page  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory):
    path = tmp_path_factory.mktemp("browser-ops") / "lotsen.sqlite"
    app = create_app(make_config(f"sqlite:///{path}", WTF_CSRF_ENABLED=True))
    with app.app_context():
        upgrade()
        admin = factories.user(Role.ADMIN, name="Tomas Admin", email="admin@example.org")
        admin.totp_secret = pyotp.random_base32()  # enrolled: admins log in in two steps
        admin.totp_enabled_at = clock.now()
        db.session.commit()
        email, secret = admin.email, admin.totp_secret
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "email": email, "secret": secret}
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


def test_admin_follows_the_banner_to_an_accessible_health_page(admin_server, page):  # noqa: F811
    from tests.test_browser_interest import axe_violations

    base = admin_server["url"]
    page.goto(f"{base}/login")
    page.get_by_label("E-post").fill(admin_server["email"])
    page.get_by_label("Lösenord").fill(factories.PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(f"{base}/login/code")
    page.get_by_label("Kod").fill(pyotp.TOTP(admin_server["secret"]).now())
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state()
    alert = page.get_by_role("alert")
    assert "schemaläggaren har aldrig körts" in alert.inner_text()
    assert axe_violations(page) == [], "page with the banner"
    alert.get_by_role("link", name="Schemaläggarens status").click()
    page.wait_for_url(f"{base}/admin/scheduler")
    assert page.locator("#job-daily-digest").get_by_text("aldrig").is_visible()
    assert axe_violations(page) == [], "scheduler health"
    assert page.problems == []
