"""Session lifecycle: alternative-token user loading, idle and absolute timeouts."""

import hmac
from datetime import datetime, timedelta

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from lotsen import clock
from lotsen.accounts.models import User
from lotsen.extensions import db, login_manager

# The user, their municipalities (the scope) and the session token in one query, built once:
# it runs on every request, and building the statement cost more than running it.
LOAD_USER = (
    select(User)
    .where(User.id == bindparam("user_id"), User.active.is_(True))
    .options(joinedload(User.extra_municipalities))
)


@login_manager.user_loader
def load_user(alternative_id: str) -> User | None:
    user_id, _sep, token = alternative_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.scalars(LOAD_USER, {"user_id": int(user_id)}).unique().one_or_none()
    if user is None or not hmac.compare_digest(user.session_token, token):
        return None
    return user


def start_session(user: User) -> None:
    """Log in on a fresh session (no fixation), stamping the times the timeouts use."""
    session.clear()
    login_user(user, remember=False)
    now = clock.now().isoformat()
    session["login_at"] = now
    session["seen_at"] = now


def end_session() -> None:
    logout_user()
    session.clear()


# How often the idle clock is moved on: not on every request, which would sign and send a
# new session cookie with every page; an idle session ends this much later at most.
SEEN_STEP = timedelta(minutes=1)


def _age(key: str) -> timedelta | None:
    """How long ago the session's ``key`` stamp was made (None: missing or unreadable)."""
    stamp = session.get(key)
    if not stamp:
        return None
    try:
        return clock.now() - datetime.fromisoformat(stamp)
    except ValueError:
        return None


def enforce_timeouts():
    """``before_request``: end sessions idle for too long or older than the absolute limit."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    cfg = current_app.config
    idle, age = _age("seen_at"), _age("login_at")
    if idle is None or idle > cfg["IDLE_TIMEOUT"] or age is None or age > cfg["ABSOLUTE_TIMEOUT"]:
        end_session()
        flash(_("Your session has ended. Please log in again."), "info")
        return redirect(
            url_for("accounts.login", next=request.full_path if request.method == "GET" else None)
        )
    if idle >= SEEN_STEP:
        session["seen_at"] = clock.now().isoformat()
    return None
