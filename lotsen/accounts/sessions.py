"""Session lifecycle: alternative-token user loading, idle and absolute timeouts."""

import hmac
from datetime import datetime

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lotsen import clock
from lotsen.accounts.models import User
from lotsen.extensions import db, login_manager


@login_manager.user_loader
def load_user(alternative_id: str) -> User | None:
    user_id, _sep, token = alternative_id.partition(":")
    if not user_id.isdigit():
        return None
    # The user, their municipalities (the scope) and the session token in one query.
    user = (
        db.session.scalars(
            select(User)
            .where(User.id == int(user_id), User.active.is_(True))
            .options(joinedload(User.extra_municipalities))
        )
        .unique()
        .one_or_none()
    )
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


def _expired(key: str, limit) -> bool:
    stamp = session.get(key)
    if not stamp:
        return True
    try:
        return clock.now() - datetime.fromisoformat(stamp) > limit
    except ValueError:
        return True


def enforce_timeouts():
    """``before_request``: end sessions idle for too long or older than the absolute limit."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    cfg = current_app.config
    if _expired("seen_at", cfg["IDLE_TIMEOUT"]) or _expired("login_at", cfg["ABSOLUTE_TIMEOUT"]):
        end_session()
        flash(_("Your session has ended. Please log in again."), "info")
        return redirect(
            url_for("accounts.login", next=request.full_path if request.method == "GET" else None)
        )
    session["seen_at"] = clock.now().isoformat()
    return None
