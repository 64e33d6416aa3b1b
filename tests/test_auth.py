from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from lotsen.accounts.models import LoginAttempt, Role
from lotsen.clock import now as utcnow
from lotsen.extensions import db
from tests import factories
from tests.conftest import login

PASSWORD = factories.PASSWORD


def post_login(client, email, password, **kw):
    return client.post("/login", data={"email": email, "password": password}, **kw)


def test_guide_logs_in_and_lands_on_my_day(client, region):
    response = post_login(client, region.norsjo_guide.email, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/my-day"
    assert client.get("/households").status_code == 200
    attempt = db.session.scalars(select(LoginAttempt)).one()
    assert (attempt.outcome, attempt.success, attempt.ip) == ("ok", True, "127.0.0.1")


def test_wrong_password_is_refused_with_a_swedish_message(client, region):
    response = post_login(client, region.norsjo_guide.email, "wrong password 123")
    assert response.status_code == 401
    assert "Fel e-postadress eller lösenord." in response.get_data(as_text=True)
    assert client.get("/households").status_code == 302
    assert db.session.scalars(select(LoginAttempt.outcome)).all() == ["bad_password"]


def test_unknown_account_gets_the_same_message(client, region):
    response = post_login(client, "nobody@example.org", "whatever password")
    assert response.status_code == 401
    assert "Fel e-postadress eller lösenord." in response.get_data(as_text=True)


def test_account_is_throttled_after_five_failures_even_with_the_right_password(client, region):
    email = region.norsjo_guide.email
    for _ in range(5):
        assert post_login(client, email, "wrong password 123").status_code == 401
    response = post_login(client, email, PASSWORD)
    assert response.status_code == 429
    assert "Försök igen om 15 minuter" in response.get_data(as_text=True)
    assert client.get("/households").status_code == 302
    outcomes = db.session.scalars(select(LoginAttempt.outcome).order_by(LoginAttempt.id)).all()
    assert outcomes == ["bad_password"] * 5 + ["throttled"]


def test_throttle_window_passes(client, region):
    email = region.norsjo_guide.email
    for _ in range(5):
        db.session.add(
            LoginAttempt(
                email=email,
                ip="10.0.0.9",
                success=False,
                outcome="bad_password",
                at=utcnow() - timedelta(minutes=16),
            )
        )
    db.session.commit()
    assert post_login(client, email, PASSWORD).status_code == 302


def test_ip_is_throttled_across_accounts(client, region):
    for i in range(30):
        db.session.add(
            LoginAttempt(
                email=f"guess{i}@example.org",
                ip="127.0.0.1",
                success=False,
                outcome="unknown",
                at=utcnow(),
            )
        )
    db.session.commit()
    assert post_login(client, region.coordinator.email, PASSWORD).status_code == 429


def test_deactivated_user_cannot_log_in_and_is_logged_out(client, region):
    guide = region.norsjo_guide
    login(client, guide)
    assert client.get("/households").status_code == 200
    guide.active = False
    db.session.commit()
    assert client.get("/households").status_code == 302
    response = post_login(client, guide.email, PASSWORD)
    assert response.status_code == 401


def test_login_rehashes_password_when_parameters_change(client, region):
    guide = region.norsjo_guide
    guide.password_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(
        PASSWORD
    )
    db.session.commit()
    old_hash = guide.password_hash
    assert post_login(client, guide.email, PASSWORD).status_code == 302
    db.session.refresh(guide)
    assert guide.password_hash != old_hash
    assert not PasswordHasher().check_needs_rehash(guide.password_hash)


def test_logout_ends_every_session_of_the_user(make_client, region):
    first, second = make_client(), make_client()
    for c in (first, second):
        post_login(c, region.norsjo_guide.email, PASSWORD)
        assert c.get("/households").status_code == 200
    assert first.post("/logout").status_code == 302
    assert first.get("/households").status_code == 302
    assert second.get("/households").status_code == 302


def test_password_change_keeps_this_session_and_ends_others(make_client, region):
    this, other = make_client(), make_client()
    for c in (this, other):
        post_login(c, region.norsjo_guide.email, PASSWORD)
    new = "a much longer new passphrase"
    response = this.post(
        "/settings/password",
        data={"pw-current_password": PASSWORD, "pw-new_password": new, "pw-confirm": new},
    )
    assert response.status_code == 302
    assert this.get("/households").status_code == 200
    assert other.get("/households").status_code == 302
    assert post_login(other, region.norsjo_guide.email, new).status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "message"),
    [
        (
            "wrong current password",
            "a much longer new passphrase",
            "Detta är inte ditt nuvarande lösenord.",
        ),
        (PASSWORD, "short", "Lösenordet måste vara minst 12 tecken långt."),
    ],
)
def test_bad_password_change_is_refused(client, region, current, new, message):
    login(client, region.norsjo_guide)
    old_hash = region.norsjo_guide.password_hash
    response = client.post(
        "/settings/password",
        data={"pw-current_password": current, "pw-new_password": new, "pw-confirm": new},
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.refresh(region.norsjo_guide)
    assert region.norsjo_guide.password_hash == old_hash


def test_idle_session_times_out(client, region):
    login(client, region.norsjo_guide)
    with client.session_transaction() as sess:
        sess["seen_at"] = (utcnow() - timedelta(minutes=31)).isoformat()
    response = client.get("/households")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert client.get("/households").status_code == 302


def test_activity_keeps_a_session_alive_and_moves_its_idle_clock_once_a_minute(
    client, region, frozen
):
    login(client, region.norsjo_guide)
    assert client.get("/households").status_code == 200  # (stores the form token)
    again = client.get("/households")
    assert again.status_code == 200
    assert "Set-Cookie" not in again.headers  # seen moments ago: no new cookie to sign
    frozen.shift(timedelta(minutes=20))
    moved = client.get("/households")
    assert moved.status_code == 200 and "Set-Cookie" in moved.headers
    frozen.shift(timedelta(minutes=20))  # 40 minutes after the login, 20 after the last page
    assert client.get("/households").status_code == 200


def test_session_ends_after_absolute_limit_even_when_active(client, region):
    login(client, region.norsjo_guide)
    with client.session_transaction() as sess:
        sess["login_at"] = (utcnow() - timedelta(hours=12, minutes=1)).isoformat()
    assert client.get("/households").status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/x",
    ],
)
def test_next_never_leaves_the_app(client, region, target):
    response = post_login(
        client, region.norsjo_guide.email, PASSWORD, query_string={"next": target}
    )
    assert response.headers["Location"] == "/my-day"


def test_next_within_the_app_is_followed(client, region):
    response = post_login(
        client, region.norsjo_guide.email, PASSWORD, query_string={"next": "/households?stage=new"}
    )
    assert response.headers["Location"] == "/households?stage=new"


def test_security_headers_and_no_store_when_logged_in(client, region):
    anonymous = client.get("/login")
    csp = anonymous.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert anonymous.headers["X-Content-Type-Options"] == "nosniff"
    assert anonymous.headers["Referrer-Policy"] == "same-origin"
    login(client, region.norsjo_guide)
    assert client.get("/households").headers["Cache-Control"] == "no-store"


def test_session_cookie_is_httponly_and_lax(client, region):
    post_login(client, region.norsjo_guide.email, PASSWORD)
    cookie = client.get_cookie("lotsen_session")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_admin_lands_on_user_management(client, region):
    response = post_login(client, region.admin.email, PASSWORD)
    assert response.headers["Location"] == "/admin/users"


def test_role_comes_from_the_account_not_the_form(client, region):
    response = client.post(
        "/login",
        data={"email": region.norsjo_guide.email, "password": PASSWORD, "role": Role.ADMIN},
    )
    assert response.status_code == 302
    assert client.get("/admin/users").status_code == 403
