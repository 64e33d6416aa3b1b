"""Two-factor login: TOTP (RFC 6238, pyotp) with one-time recovery codes.

A code is accepted for the current time step or one either side (clock drift), and only
for a step later than the last one accepted: the same code never works twice. Failures
and reuse are recorded as login attempts (so they feed the login throttle) and audited."""

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from flask import current_app
from sqlalchemy import select

from lotsen import clock
from lotsen.accounts.models import RecoveryCode, User
from lotsen.accounts.services import _record_attempt, _throttled_for
from lotsen.audit.services import audit
from lotsen.extensions import db

ISSUER = "Lotsen"
RECOVERY_CODES = 10
DRIFT_STEPS = 1


@cache
def _recovery_hasher():
    """Recovery codes are random (10 characters of 31: ~49 bits), not chosen by people, so
    OWASP's minimum argon2id setting (19 MiB, 2 passes, 1 lane) is ample and keeps checking
    ten of them at a login well under a second. Argon2 and pyotp load on first use, like the
    password hasher (``services._hasher``): most requests are not a login."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def _totp(secret: str):
    import pyotp

    return pyotp.TOTP(secret)


def required_for(user: User) -> bool:
    """Whether ``user`` must log in with a second factor (their role requires it, or they
    enrolled by choice)."""
    return user.totp_enabled_at is not None or str(user.role) in current_app.config.get(
        "TOTP_REQUIRED_ROLES", ()
    )


def new_secret() -> str:
    import pyotp

    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return _totp(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str, title: str) -> str:
    """The enrolment QR code as inline SVG (no script, no style attribute: CSP-safe)."""
    import segno  # on first use: only enrolment draws a QR code

    return segno.make(uri, error="m").svg_inline(scale=4, title=title, svgclass="qr-code")


def _step_of(secret: str, code: str, now: datetime, after: int | None) -> tuple[int | None, bool]:
    """(the matching time step, whether it was used before) for ``code``."""
    totp = _totp(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step, after is not None and step <= after
    return None, False


def _recovery_matches(code_hash: str, code: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _recovery_hasher().verify(code_hash, code)
    except (VerificationError, InvalidHashError):
        return False


def _clean(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()[:32]


@dataclass
class CodeResult:
    outcome: str  # ok, recovery_ok, bad_code, code_reused, throttled
    retry_after_minutes: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome in ("ok", "recovery_ok")


def check_code(user: User, code: str, ip: str) -> CodeResult:
    """The second step of a login: a TOTP code, or one of the user's recovery codes."""
    now = clock.now()
    wait = _throttled_for(user.email, ip, now)
    if wait:
        return CodeResult("throttled", wait)
    code = _clean(code)
    outcome = "bad_code"
    if code.isdigit() and len(code) == 6 and user.totp_secret:
        step, reused = _step_of(user.totp_secret, code, now, user.totp_last_step)
        if step is not None and not reused:
            user.totp_last_step = step
            outcome = "ok"
        elif reused:
            outcome = "code_reused"
    elif len(code) == 10:
        for recovery in db.session.scalars(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ):
            if _recovery_matches(recovery.code_hash, code):
                recovery.used_at = now
                outcome = "recovery_ok"
                break
    if outcome in ("bad_code", "code_reused"):
        _record_attempt(user.email, ip, user, outcome, now)
        audit("login.failure", by=None, target=f"user:{user.id}", changes={"outcome": outcome})
    db.session.flush()
    return CodeResult(outcome)


def _new_recovery_codes(user: User, now: datetime) -> list[str]:
    """Replace the user's recovery codes; the plain codes are returned to be shown once."""
    for old in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db.session.delete(old)
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = ["".join(secrets.choice(alphabet) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    for code in codes:
        db.session.add(
            RecoveryCode(user_id=user.id, code_hash=_recovery_hasher().hash(code), created_at=now)
        )
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def enrol(user: User, secret: str, code: str, ip: str) -> list[str] | None:
    """Turn the second factor on when ``code`` proves the app holds ``secret``; returns the
    recovery codes (to show once), or None when the code is wrong."""
    now = clock.now()
    code = _clean(code)
    step, _reused = _step_of(secret, code, now, None) if code.isdigit() else (None, False)
    if step is None:
        _record_attempt(user.email, ip, user, "bad_code", now)
        audit("login.failure", by=None, target=f"user:{user.id}", changes={"outcome": "bad_code"})
        return None
    user.totp_secret = secret
    user.totp_enabled_at = now
    user.totp_last_step = step
    codes = _new_recovery_codes(user, now)
    db.session.flush()
    audit("user.update", by=user, target=f"user:{user.id}", changes={"two_factor": [None, "on"]})
    return codes


def unused_recovery_codes(user: User) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def reset(user: User, by: User | None = None) -> None:
    """Turn the second factor off (a lost phone and lost recovery codes): the user enrols
    again at their next login if their role requires it. Ends their sessions. Audited."""
    from lotsen.accounts.services import end_all_sessions

    for old in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db.session.delete(old)
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    end_all_sessions(user)
    db.session.flush()
    audit("user.update", by=by, target=f"user:{user.id}", changes={"two_factor": ["on", None]})
