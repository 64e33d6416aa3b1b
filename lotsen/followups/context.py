"""The follow-up counts shown in the navigation on every page."""

from flask import request
from flask_login import current_user

from lotsen import clock
from lotsen.access import may_open
from lotsen.followups.services import due_counts


def navigation_counts() -> dict:
    if (
        request.endpoint in (None, "static", "health.healthz")
        or not current_user
        or not current_user.is_authenticated
        or not may_open("followups.my_day_page")
    ):
        return {}
    overdue, today = due_counts(current_user, clock.today())
    return {"nav_overdue": overdue, "nav_due_today": today}
