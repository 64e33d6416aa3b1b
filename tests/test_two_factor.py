"""Two-factor login: TOTP enrolment with a QR code, recovery codes, one use per code."""

from datetime import timedelta

import pyotp
from sqlalchemy import func, select

from lotsen.accounts.models import LoginAttempt, RecoveryCode, Role
from lotsen.extensions import db
from tests.factories import PASSWORD


def _login(client, user):
    return client.post("/login", data={"email": user.email, "password": PASSWORD})


def _enrol(client, user) -> list[str]:
    page = client.get("/settings/two-factor").get_data(as_text=True)
    assert "<svg" in page and 'class="qr-code"' in page
    db.session.refresh(user)
    code = pyotp.TOTP(user.totp_secret).now()
    response = client.post("/settings/two-factor", data={"code": code})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return [
        line.split("<code>")[1].split("</code>")[0]
        for line in html.split("<li>")[1:]
        if "<code>" in line
    ]


def test_a_coordinator_is_sent_to_enrolment_until_enrolled(client, region, frozen):
    assert _login(client, region.coordinator).status_code == 302
    response = client.get("/pipeline")
    assert response.status_code == 302 and response.headers["Location"] == "/settings/two-factor"
    assert client.get("/households").headers["Location"] == "/settings/two-factor"
    codes = _enrol(client, region.coordinator)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and all(h.startswith("$argon2id$v=19$m=19456,t=2") for h in stored)
    assert not any(c.replace("-", "") in h for c in codes for h in stored)
    assert client.get("/households").status_code == 200  # enrolled: the session goes on
    assert "Oanvända reservkoder: 10" in client.get("/settings/two-factor").get_data(as_text=True)


def test_an_enrolled_user_must_give_a_code_and_each_code_works_once(make_client, region, frozen):
    first = make_client()
    _login(first, region.coordinator)
    _enrol(first, region.coordinator)
    frozen.shift(timedelta(seconds=60))  # the next time step
    browser = make_client()
    assert _login(browser, region.coordinator).status_code == 302
    assert browser.get("/households").headers["Location"] == "/login/code"
    code = pyotp.TOTP(region.coordinator.totp_secret).now()
    wrong = browser.post("/login/code", data={"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 401 and "Fel kod" in wrong.get_data(as_text=True)
    assert browser.post("/login/code", data={"code": code}).status_code == 302
    assert browser.get("/households").status_code == 200

    other = make_client()  # someone who saw the code tries it at once
    _login(other, region.coordinator)
    reused = other.post("/login/code", data={"code": code})
    assert reused.status_code == 401 and "redan använts" in reused.get_data(as_text=True)
    assert other.get("/households").status_code == 302
    outcomes = db.session.scalars(
        select(LoginAttempt.outcome).where(LoginAttempt.outcome.in_(("bad_code", "code_reused")))
    ).all()
    assert sorted(outcomes) == ["bad_code", "code_reused"]


def test_a_recovery_code_works_once(make_client, region, frozen):
    first = make_client()
    _login(first, region.admin)
    codes = _enrol(first, region.admin)
    browser = make_client()
    _login(browser, region.admin)
    ok = browser.post("/login/code", data={"code": codes[0].upper()})
    assert ok.status_code == 302
    assert browser.get("/admin/users").status_code == 200
    again = make_client()
    _login(again, region.admin)
    assert again.post("/login/code", data={"code": codes[0]}).status_code == 401
    used = db.session.scalar(
        select(func.count()).select_from(RecoveryCode).where(RecoveryCode.used_at.is_not(None))
    )
    assert used == 1


def test_wrong_codes_are_throttled_like_passwords(make_client, region, frozen):
    first = make_client()
    _login(first, region.coordinator)
    _enrol(first, region.coordinator)
    frozen.shift(timedelta(minutes=1))
    client = make_client()
    _login(client, region.coordinator)
    statuses = [client.post("/login/code", data={"code": "12345"}).status_code for _ in range(5)]
    assert statuses == [401] * 5  # 5-digit: never right
    right = pyotp.TOTP(region.coordinator.totp_secret).now()
    response = client.post("/login/code", data={"code": right})
    assert response.status_code == 429
    assert "Försök igen om" in response.get_data(as_text=True)
    frozen.shift(timedelta(minutes=16))
    later = make_client()
    _login(later, region.coordinator)
    right = pyotp.TOTP(region.coordinator.totp_secret).now()
    assert later.post("/login/code", data={"code": right}).status_code == 302


def test_a_guide_logs_in_without_a_code_and_may_enrol_by_choice(make_client, region, frozen):
    browser = make_client()
    _login(browser, region.norsjo_guide)
    assert browser.get("/households").status_code == 200
    _enrol(browser, region.norsjo_guide)
    later = make_client()
    frozen.shift(timedelta(minutes=1))
    _login(later, region.norsjo_guide)
    assert later.get("/households").headers["Location"] == "/login/code"


def test_the_required_roles_are_a_setting(app, make_client, region, frozen, monkeypatch):
    monkeypatch.setitem(app.config, "TOTP_REQUIRED_ROLES", ("admin",))
    browser = make_client()
    _login(browser, region.coordinator)
    assert browser.get("/households").status_code == 200
    assert region.coordinator.role == Role.COORDINATOR
    admin = make_client()
    _login(admin, region.admin)
    assert admin.get("/admin/users").headers["Location"] == "/settings/two-factor"


def test_public_pages_stay_open_between_the_two_steps(client, region, frozen):
    _login(client, region.coordinator)
    assert client.get("/interest").status_code == 200


def test_an_operator_resets_a_lost_second_factor(app, make_client, region, frozen):
    browser = make_client()
    _login(browser, region.coordinator)
    _enrol(browser, region.coordinator)
    result = app.test_cli_runner().invoke(
        args=["lotsen", "reset-two-factor", region.coordinator.email.upper()]
    )
    assert result.exit_code == 0, result.output
    db.session.refresh(region.coordinator)
    assert region.coordinator.totp_secret is None
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0
    assert browser.get("/households").status_code == 302  # the session ended
    again = make_client()
    _login(again, region.coordinator)
    assert again.get("/households").headers["Location"] == "/settings/two-factor"
    missing = app.test_cli_runner().invoke(args=["lotsen", "reset-two-factor", "x@example.org"])
    assert missing.exit_code != 0
