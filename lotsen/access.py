"""Who may do what: every view declares its roles; household scope lives here only.

A view without a declaration is refused (403) at runtime, and the generated permission
test in tests/test_permissions.py fails, so a new route cannot slip through unguarded.
"""

from collections.abc import Callable, Iterable

from flask import abort, current_app, request
from flask_login import current_user
from sqlalchemy import and_, exists, false, or_, select, true
from sqlalchemy.sql import ColumnElement

from lotsen.accounts.models import Role, User
from lotsen.extensions import db, login_manager
from lotsen.households.models import Household, HouseholdShare, household_municipality

PUBLIC = "public"
STAFF = (Role.GUIDE, Role.COORDINATOR, Role.ADMIN)
HOUSEHOLD_ROLES = (Role.GUIDE, Role.COORDINATOR)


def allow(*roles: Role | str) -> Callable:
    """Declare who may call a view: ``@allow(PUBLIC)`` or ``@allow(Role.GUIDE, ...)``."""

    def mark(view):
        view.access = frozenset(roles)
        return view

    return mark


def enforce_access():
    """``before_request``: apply the view's declaration (deny when there is none)."""
    if request.endpoint is None or request.endpoint == "static":
        return None
    view = current_app.view_functions[request.endpoint]
    roles = getattr(view, "access", None)
    if roles is None:
        current_app.logger.error("view %s declares no access rule", request.endpoint)
        abort(403)
    if PUBLIC in roles:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role not in roles:
        abort(403)
    return None


def household_scope(user: User) -> ColumnElement[bool]:
    """SQL condition for the households ``user`` may see and change."""
    if user.role == Role.COORDINATOR:
        return true()
    if user.role != Role.GUIDE:
        return false()
    codes = sorted(user.municipality_codes)
    return or_(
        Household.primary_municipality_code.in_(codes),
        Household.guide_id == user.id,
        exists().where(
            and_(
                household_municipality.c.household_id == Household.id,
                household_municipality.c.municipality_code.in_(codes),
            )
        ),
        exists().where(
            and_(HouseholdShare.household_id == Household.id, HouseholdShare.user_id == user.id)
        ),
    )


def get_household_or_404(household_id: int, options: Iterable = ()) -> Household:
    """The household if the current user may see it; 404 otherwise (no existence leak)."""
    stmt = (
        select(Household)
        .where(Household.id == household_id, household_scope(current_user))
        .options(*options)
    )
    household = db.session.scalars(stmt).unique().one_or_none()
    if household is None:
        abort(404)
    return household


def can_see_household(user: User, household_id: int) -> bool:
    stmt = select(Household.id).where(Household.id == household_id, household_scope(user))
    return db.session.scalar(stmt) is not None
