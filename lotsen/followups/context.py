"""The follow-up counts shown in the navigation on every page."""

from flask import request
from flask_login import current_user

from lotsen import clock
from lotsen.accounts.models import Role
from lotsen.followups.services import due_counts


def navigation_counts() -> dict:
    if (
        request.endpoint in (None, "static", "health.healthz")
        or not current_user
        or not current_user.is_authenticated
        or current_user.role not in (Role.GUIDE, Role.COORDINATOR)
    ):
        return {}
    overdue, today = due_counts(current_user, clock.today())
    return {"nav_overdue": overdue, "nav_due_today": today}
