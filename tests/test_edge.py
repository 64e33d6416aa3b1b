"""The app's edge as seen from outside: trusted proxies, login and password-change
throttling that slows guessing without locking a person out, HSTS, the calendar link after
logout or deactivation, and the environment the app assumes when nobody says."""

import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config import DEV_SECRET_KEY, DevelopmentConfig, ProductionConfig, config_from_env
from lotsen import create_app
from lotsen.accounts.models import LoginAttempt
from lotsen.db import utcnow
from lotsen.extensions import db, limiter
from lotsen.security import InsecureConfiguration
from tests import factories
from tests.conftest import login
from tests.test_interest import form_data

PASSWORD = factories.PASSWORD
PROXY = "10.0.0.2"  # the TLS proxy in front of the app
ROOT = Path(__file__).resolve().parent.parent


def via(client, address: str | None):
    """Requests of a visitor at ``address`` arriving through the proxy (X-Forwarded-For)."""

    def open_(method, path, **kwargs):
        headers = {"X-Forwarded-For": address} if address else {}
        return client.open(
            path, method=method, headers=headers, environ_overrides={"REMOTE_ADDR": PROXY}, **kwargs
        )

    return open_


def login_from(client, address: str, email: str, password: str, direct: bool = False):
    """A login from ``address``: through the proxy, or straight to the app (``direct``)."""
    if direct:
        return client.post(
            "/login",
            data={"email": email, "password": password},
            environ_overrides={"REMOTE_ADDR": address},
        )
    return via(client, address)("POST", "/login", data={"email": email, "password": password})


def earlier_failures(n: int, ip: str, email=None) -> None:
    """``n`` failed logins just now (argon2 is slow on purpose: the bulk is written directly)."""
    for i in range(n):
        db.session.add(
            LoginAttempt(
                email=email or f"made-up{i}@example.org",
                ip=ip,
                success=False,
                outcome="bad_password" if email else "unknown",
                at=utcnow(),
            )
        )
    db.session.commit()


def passes_time(**kwargs):
    """Move every recorded login attempt into the past, as if that much time went by."""
    for attempt in db.session.scalars(select(LoginAttempt)):
        attempt.at -= timedelta(**kwargs)
    db.session.commit()


def test_forwarded_for_is_ignored_without_trusted_proxies(app, make_client, region, monkeypatch):
    """TRUSTED_PROXY_HOPS=0 (the default): anyone can send X-Forwarded-For, so it is not
    believed: a forged one neither hides the guesser nor names the coordinator, and behind
    a proxy the proxy's address is throttled as a whole."""
    monkeypatch.setitem(app.config, "TRUSTED_PROXY_HOPS", 0)
    attacker, coordinator = make_client(), make_client()
    for i in range(3):
        response = login_from(attacker, f"203.0.113.{i + 1}", f"guess{i}@example.org", "x" * 12)
        assert response.status_code == 401
    assert set(db.session.scalars(select(LoginAttempt.ip))) == {PROXY}
    earlier_failures(27, PROXY)
    assert login_from(attacker, "203.0.113.99", "guess@example.org", "x" * 12).status_code == 429
    response = login_from(coordinator, "198.51.100.7", region.coordinator.email, PASSWORD)
    assert response.status_code == 429


def test_one_trusted_proxy_throttles_the_guesser_not_everyone(
    app, make_client, region, monkeypatch
):
    monkeypatch.setitem(app.config, "TRUSTED_PROXY_HOPS", 1)
    attacker, coordinator = make_client(), make_client()
    for i in range(3):
        response = login_from(attacker, "203.0.113.5", f"guess{i}@example.org", "x" * 12)
        assert response.status_code == 401
    assert set(db.session.scalars(select(LoginAttempt.ip))) == {"203.0.113.5"}
    earlier_failures(27, "203.0.113.5")
    assert login_from(attacker, "203.0.113.5", "guess@example.org", "x" * 12).status_code == 429
    response = login_from(coordinator, "198.51.100.7", region.coordinator.email, PASSWORD)
    assert response.status_code == 302
    rows = db.session.execute(select(LoginAttempt.ip, func.count()).group_by(LoginAttempt.ip))
    assert {ip: n for ip, n in rows} == {"203.0.113.5": 31, "198.51.100.7": 1}


@pytest.mark.parametrize(("hops", "second_visitor"), [(1, 400), (0, 429)])
def test_interest_rate_limit_counts_visitors_behind_the_proxy(
    app, make_client, monkeypatch, hops, second_visitor
):
    monkeypatch.setitem(app.config, "TRUSTED_PROXY_HOPS", hops)
    monkeypatch.setitem(app.config, "INTEREST_RATE_LIMIT", "2/minute")
    monkeypatch.setitem(app.config, "INTEREST_MIN_FILL_SECONDS", 0)
    limiter.reset()
    try:
        first = via(make_client(), "203.0.113.5")
        for _ in range(2):
            assert (
                first("POST", "/interest?lang=en", data=form_data(email="bad")).status_code == 400
            )
        assert first("POST", "/interest?lang=en", data=form_data(email="bad")).status_code == 429
        other = via(make_client(), "198.51.100.7")
        response = other("POST", "/interest?lang=en", data=form_data(email="bad"))
        assert response.status_code == second_visitor
    finally:
        limiter.reset()


def test_stranger_hammering_an_account_does_not_lock_out_its_owner(make_client, region):
    stranger, owner = make_client(), make_client()
    email = region.coordinator.email
    statuses = [login_from(stranger, "203.0.113.9", email, "guess " * 3, True) for _ in range(20)]
    assert [r.status_code for r in statuses] == [401] * 5 + [429] * 15
    assert login_from(owner, "198.51.100.7", email, PASSWORD, direct=True).status_code == 302


def test_a_throttle_ends_although_the_stranger_keeps_trying(make_client, region):
    """Refused attempts do not count: throttling ends after the window, never 'for ever'."""
    stranger = make_client()
    email = region.norsjo_guide.email
    for _ in range(5):
        login_from(stranger, "203.0.113.9", email, "guess guess guess", direct=True)
    passes_time(minutes=10)
    for _ in range(10):
        response = login_from(stranger, "203.0.113.9", email, "guess guess guess", direct=True)
        assert response.status_code == 429
    passes_time(minutes=6)  # the five failures are 16 minutes old, the refusals 6
    response = login_from(stranger, "203.0.113.9", email, PASSWORD, direct=True)
    assert response.status_code == 302


def test_guessing_from_many_addresses_slows_the_account_for_minutes_only(make_client, region):
    email = region.coordinator.email
    for i in range(2):
        login_from(make_client(), f"203.0.113.{i + 1}", email, "guess guess guess", direct=True)
    for i in range(13):
        earlier_failures(1, f"198.51.100.{i + 100}", email)
    owner = make_client()
    response = login_from(owner, "198.51.100.7", email, PASSWORD, direct=True)
    assert response.status_code == 429
    assert "Försök igen om 10 minuter" in response.get_data(as_text=True)
    passes_time(minutes=10, seconds=1)
    assert login_from(owner, "198.51.100.7", email, PASSWORD, direct=True).status_code == 302


def change_password_form(current: str, new: str = "a much longer new passphrase") -> dict:
    return {"pw-current_password": current, "pw-new_password": new, "pw-confirm": new}


def test_password_change_is_throttled_and_recorded_like_a_login(client, make_client, region):
    guide = region.norsjo_guide
    old_hash = guide.password_hash
    login(client, guide)
    for _ in range(5):
        response = client.post("/settings/password", data=change_password_form("guess " * 3))
        assert response.status_code == 400
    response = client.post("/settings/password", data=change_password_form(PASSWORD))
    assert response.status_code == 429
    assert "Försök igen om 15 minuter" in response.get_data(as_text=True)
    db.session.refresh(guide)
    assert guide.password_hash == old_hash
    outcomes = db.session.scalars(
        select(LoginAttempt.outcome).where(LoginAttempt.email == guide.email)
    ).all()
    assert outcomes == ["bad_current_password"] * 5 + ["throttled"]
    assert client.get("/households").status_code == 200  # this session goes on
    other_browser = make_client()
    assert login_from(other_browser, "127.0.0.1", guide.email, PASSWORD, True).status_code == 429
    passes_time(minutes=16)
    response = client.post("/settings/password", data=change_password_form(PASSWORD))
    assert response.status_code == 302
    last = db.session.scalars(select(LoginAttempt).order_by(LoginAttempt.id.desc())).first()
    assert (last.outcome, last.success, last.ip) == ("password_changed", True, "127.0.0.1")


def test_hsts_only_in_production(client, region):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    config = type(
        "P", (ProductionConfig,), {"SECRET_KEY": "x" * 48, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )
    response = create_app(config).test_client().get("/login")
    assert response.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"


def feed(client, token):
    return client.get(f"/calendar/{token}.ics").status_code


def test_logout_and_password_change_give_the_calendar_a_new_link(make_client, region):
    guide = region.norsjo_guide
    browser, calendar = make_client(), make_client()
    login(browser, guide)
    browser.post("/settings/calendar")
    db.session.refresh(guide)
    first = guide.ical_token
    assert feed(calendar, first) == 200
    browser.post("/logout")
    db.session.refresh(guide)
    second = guide.ical_token
    assert second and second != first
    assert (feed(calendar, first), feed(calendar, second)) == (404, 200)
    login(browser, guide)
    assert browser.post("/settings/password", data=change_password_form(PASSWORD)).status_code
    db.session.refresh(guide)
    assert guide.ical_token not in (first, second)
    assert (feed(calendar, second), feed(calendar, guide.ical_token)) == (404, 200)
    settings = browser.get("/settings").get_data(as_text=True)
    assert guide.ical_token in settings


def test_deactivation_revokes_the_calendar_link_and_reactivation_has_a_new_one(make_client, region):
    guide, admin, calendar = region.norsjo_guide, make_client(), make_client()
    guide.ical_token = "old-calendar-link-of-the-guide-0123456789"
    db.session.commit()
    login(admin, region.admin)
    fields = {
        "name": guide.name,
        "email": guide.email,
        "role": "guide",
        "municipality_code": guide.municipality_code,
        "locale": "sv",
    }
    assert admin.post(f"/admin/users/{guide.id}", data=fields).status_code == 302
    assert feed(calendar, "old-calendar-link-of-the-guide-0123456789") == 404
    assert admin.post(f"/admin/users/{guide.id}", data={**fields, "active": "y"}).status_code
    db.session.refresh(guide)
    assert guide.active and guide.ical_token != "old-calendar-link-of-the-guide-0123456789"
    assert feed(calendar, "old-calendar-link-of-the-guide-0123456789") == 404
    assert feed(calendar, guide.ical_token) == 200


def test_seed_demo_refuses_in_production():
    config = type(
        "P", (ProductionConfig,), {"SECRET_KEY": "x" * 48, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )
    result = create_app(config).test_cli_runner().invoke(args=["lotsen", "seed-demo"])
    assert result.exit_code != 0
    assert "refuses to run in production" in result.output


def test_unset_environment_means_production_and_refuses_the_development_key(monkeypatch):
    monkeypatch.delenv("LOTSEN_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    assert config_from_env() is ProductionConfig
    assert ProductionConfig.SECRET_KEY == DEV_SECRET_KEY  # nothing set: the public key ...
    with pytest.raises(InsecureConfiguration):
        create_app()  # ... which production refuses: a forgotten LOTSEN_ENV fails closed
    monkeypatch.setenv("LOTSEN_ENV", "development")
    assert config_from_env() is DevelopmentConfig
    monkeypatch.setenv("LOTSEN_ENV", "prod")
    with pytest.raises(RuntimeError, match="LOTSEN_ENV must be one of"):
        config_from_env()


def test_make_asks_for_development():
    """``make run`` serves the development configuration although LOTSEN_ENV is unset."""
    env = {k: v for k, v in os.environ.items() if k not in ("LOTSEN_ENV", "MAKEFLAGS")}
    output = subprocess.run(  # noqa: S603
        [  # noqa: S607
            "make",
            "-s",
            "--no-print-directory",
            "--eval",
            "show-env:\n\t@echo $$LOTSEN_ENV",
            "show-env",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert output.strip() == "development"
