"""Staff accounts: passwords, login throttling, user management."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from lotsen import clock
from lotsen.accounts.models import LoginAttempt, Role, User, new_feed_token, new_session_token
from lotsen.extensions import db
from lotsen.regions.models import Municipality

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


@cache
def _hasher():
    """Argon2 (with its cffi bindings, ~0.8 MB) on the first password a worker checks or
    sets: most requests never do."""
    from argon2 import PasswordHasher

    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verifying against this when the account does not exist keeps the timing the same.
    Made on first need: hashing takes 64 MiB for a moment, not worth paying at import."""
    return _hasher().hash("not-a-real-password-just-for-timing")


class AccountError(ValueError):
    """A rule about accounts was broken; the message is shown to the user."""


def hash_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise AccountError(
            _l(
                "The password must be %(min)d to %(max)d characters long.",
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
            )
        )
    return _hasher().hash(password)


def normalise_email(email: str) -> str:
    return email.strip().lower()


@dataclass
class LoginResult:
    user: User | None
    outcome: str  # ok, bad_password, unknown, inactive, throttled
    retry_after_minutes: int = 0


# Outcomes of a real password check; refusals by the throttle itself do not count, so that
# hammering a throttled account does not keep it throttled for ever.
FAILED_CHECKS = (
    "bad_password",
    "unknown",
    "inactive",
    "bad_current_password",
    "bad_code",
    "code_reused",
)


def _throttled_for(email: str, ip: str, now: datetime) -> int:
    """Minutes until another attempt is allowed (0 when not throttled).

    Three counters of failed checks: this account from this address, this address for
    any account (LOGIN_THROTTLE_WINDOW), and this account from all addresses together
    (a higher cap over the shorter LOGIN_ACCOUNT_CAP_WINDOW). A stranger guessing from one
    address therefore throttles only themselves; the account as a whole is slowed only
    when many addresses guess at once, and then for minutes, not for ever."""
    cfg = current_app.config
    window = cfg["LOGIN_THROTTLE_WINDOW"]
    cap_window = cfg["LOGIN_ACCOUNT_CAP_WINDOW"]
    failed = LoginAttempt.outcome.in_(FAILED_CHECKS)
    for conditions, limit, span in (
        (
            (LoginAttempt.email == email, LoginAttempt.ip == ip),
            cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
            window,
        ),
        ((LoginAttempt.ip == ip,), cfg["LOGIN_MAX_FAILURES_PER_IP"], window),
        ((LoginAttempt.email == email,), cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL"], cap_window),
    ):
        since = now - span
        count, oldest = db.session.execute(
            select(func.count(), func.min(LoginAttempt.at)).where(
                *conditions, failed, LoginAttempt.at >= since
            )
        ).one()
        if count >= limit:
            remaining = (oldest + span - now).total_seconds()
            return max(1, int(remaining // 60) + 1)
    return 0


def _record_attempt(email: str, ip: str, user: User | None, outcome: str, now: datetime) -> None:
    db.session.add(
        LoginAttempt(
            at=now,
            email=email,
            ip=ip[:45],
            user_id=user.id if user else None,
            success=outcome in ("ok", "password_changed"),
            outcome=outcome,
        )
    )
    current_app.logger.info(  # the account's id, never the address typed (personal data)
        "login attempt user=%s outcome=%s", user.id if user else "-", outcome
    )
    db.session.flush()


def authenticate(email: str, password: str, ip: str) -> LoginResult:
    """Check a login; every attempt is recorded, and failures feed the throttle."""
    email = normalise_email(email)[:254]
    now = clock.now()
    wait = _throttled_for(email, ip, now)
    user = db.session.scalar(select(User).where(User.email == email))
    if wait:
        result = LoginResult(None, "throttled", wait)
    elif user is None:
        _verify(_dummy_hash(), password)
        result = LoginResult(None, "unknown")
    elif not _verify(user.password_hash, password):
        result = LoginResult(None, "bad_password")
    elif not user.active:
        result = LoginResult(None, "inactive")
    else:
        if _hasher().check_needs_rehash(user.password_hash):
            user.password_hash = _hasher().hash(password)
        user.last_login_at = now
        result = LoginResult(user, "ok")
    _record_attempt(email, ip, user, result.outcome, now)
    from lotsen.audit import audit

    if result.user is not None:
        audit("login.success", by=user, target=f"user:{user.id}", ip=ip, now=now)
    else:  # the account tried, if it exists; never the typed address (personal data)
        audit(
            "login.failure",
            by=None,
            target=f"user:{user.id}" if user else None,
            changes={"outcome": result.outcome},
            ip=ip,
            now=now,
        )
    return result


def check_current_password(user: User, password: str, ip: str) -> LoginResult:
    """The current password, asked before a change: throttled and recorded like a login,
    so that a stolen session cannot guess it freely."""
    now = clock.now()
    wait = _throttled_for(user.email, ip, now)
    if wait:
        result = LoginResult(None, "throttled", wait)
    elif _verify(user.password_hash, password):
        result = LoginResult(user, "ok")
    else:
        result = LoginResult(None, "bad_current_password")
    if result.outcome != "ok":  # a success is recorded once the new password is saved
        _record_attempt(user.email, ip, user, result.outcome, now)
    return result


def _verify(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password(user: User, password: str) -> bool:
    return _verify(user.password_hash, password)


def end_all_sessions(user: User) -> None:
    """Every session cookie of the user stops working (alternative-token rotation), and so
    does the calendar-feed link: a feed that was on gets a new secret, shown in settings."""
    user.session_token = new_session_token()
    if user.ical_token is not None:
        user.ical_token = new_feed_token()


def change_password(user: User, new_password: str, ip: str | None = None) -> None:
    user.password_hash = hash_password(new_password)
    end_all_sessions(user)
    if ip is not None:
        _record_attempt(user.email, ip, user, "password_changed", clock.now())
        from lotsen.audit import audit  # an admin's reset is audited as user.update

        audit("password.change", by=user, target=f"user:{user.id}", ip=ip)
    db.session.flush()


def _apply_role(user: User, role: Role, municipality_code: str | None, extra: list[str]) -> None:
    if role == Role.GUIDE:
        if not municipality_code or db.session.get(Municipality, municipality_code) is None:
            raise AccountError(_l("A guide needs a municipality."))
        user.municipality_code = municipality_code
        codes = sorted(set(extra) - {municipality_code})
        user.extra_municipalities = list(
            db.session.scalars(select(Municipality).where(Municipality.code.in_(codes)))
        )
    else:
        user.municipality_code = None
        user.extra_municipalities = []
    user.role = role


def create_user(
    email: str,
    name: str,
    role: Role,
    password: str,
    municipality_code: str | None = None,
    extra_municipalities: list[str] | None = None,
    locale: str = "sv",
    by: User | None = None,
) -> User:
    email = normalise_email(email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(_l("Another account already uses this e-mail address."))
    user = User(
        email=email, name=name.strip(), password_hash=hash_password(password), locale=locale
    )
    _apply_role(user, Role(role), municipality_code, extra_municipalities or [])
    db.session.add(user)
    db.session.flush()
    from lotsen.audit import audit

    audit("user.create", by=by, target=f"user:{user.id}", changes=_account_facts(user))
    return user


def _account_facts(user: User) -> dict:
    """What decides an account's permissions, for the audit log."""
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "municipality_code": user.municipality_code,
        "extra_municipalities": sorted(m.code for m in user.extra_municipalities),
        "locale": user.locale,
        "active": user.active,
    }


def update_user(
    user: User,
    *,
    email: str,
    name: str,
    role: Role,
    municipality_code: str | None,
    extra_municipalities: list[str],
    locale: str,
    active: bool,
    new_password: str | None = None,
    by: User | None = None,
) -> None:
    """Save an account; ``by`` (the admin editing) may not lock themselves out."""
    if by is not None and by.id == user.id and (not active or Role(role) != Role.ADMIN):
        raise AccountError(_l("You cannot deactivate yourself or remove your own admin role."))
    email = normalise_email(email)
    clash = db.session.scalar(select(User.id).where(User.email == email, User.id != user.id))
    if clash is not None:
        raise AccountError(_l("Another account already uses this e-mail address."))
    before = _account_facts(user)
    user.email = email
    user.name = name.strip()
    user.locale = locale
    _apply_role(user, Role(role), municipality_code, extra_municipalities)
    if new_password:
        change_password(user, new_password)
    set_active(user, active)
    db.session.flush()
    from lotsen.audit import audit

    after = _account_facts(user)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if new_password:
        changes["password"] = ["***", "***"]  # that it changed, never the value
    if changes:
        audit("user.update", by=by, target=f"user:{user.id}", changes=changes)
    from lotsen.followups.services import hand_back_followups  # followups build on accounts

    hand_back_followups(None, assignee=user)  # their municipalities may have changed


def set_active(user: User, active: bool) -> None:
    if user.active and not active:
        end_all_sessions(user)
    user.active = active


def active_guide_names() -> list:
    """(id, name) of the active guides, as plain rows: what a filter's options need."""
    return list(db.session.execute(_active_guide_names()))


@cache
def _active_guide_names():
    # built once: building this statement cost as much as running it, on every list page
    return (
        select(User.id, User.name)
        .where(User.role == Role.GUIDE, User.active.is_(True))
        .order_by(User.name)
    )


def active_guides() -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.role == Role.GUIDE, User.active.is_(True)).order_by(User.name)
        )
    )
