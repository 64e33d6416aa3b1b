"""The banner that admins and coordinators see on every page while scheduled work is stale."""

from flask import current_app, request
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from lotsen.accounts.models import Role
from lotsen.db import utcnow
from lotsen.extensions import db
from lotsen.ops.health import stale_jobs, stale_since


def scheduler_banner() -> dict:
    if (
        request.endpoint in (None, "static", "health.healthz")
        or not current_user
        or not current_user.is_authenticated
        or current_user.role not in (Role.ADMIN, Role.COORDINATOR)
    ):
        return {}
    try:
        stale = stale_jobs(current_app.config, utcnow())
    except SQLAlchemyError:  # e.g. on the 500 page of a database that went away
        db.session.rollback()
        return {}
    if not stale:
        return {}
    return {"scheduler_stale": stale, "scheduler_stale_since": stale_since(stale)}
