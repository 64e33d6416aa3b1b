"""Who may do what: every view declares its roles; household scope lives here only.

A view without a declaration is refused (403) at runtime, and the generated permission
test in tests/test_permissions.py fails, so a new route cannot slip through unguarded.
"""

from collections.abc import Callable, Iterable

from flask import abort, current_app, request
from flask_login import current_user
from sqlalchemy import Select, exists, false, or_, select, true, union_all
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


def may_open(endpoint: str, user: User | None = None) -> bool:
    """Whether ``user`` (default: the current user) may call ``endpoint``, by its ``@allow``
    declaration: menus and links ask this instead of testing roles themselves."""
    roles = getattr(current_app.view_functions.get(endpoint), "access", None)
    if roles is None:
        return False
    if PUBLIC in roles:
        return True
    user = current_user if user is None else user
    return bool(user and user.is_authenticated and user.role in roles)


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


_VISIBLE = Household.__table__.alias("visible")  # built once: aliasing copies every column


def household_scope(user: User) -> ColumnElement[bool]:
    """SQL condition for the households ``user`` may see and change.

    A guide sees the households of their municipalities (primary or of interest), those
    they are the guide of, and those shared with them. Written as ``id IN (a UNION ALL b
    ...)`` so that each part is an index-only look-up instead of an OR that forces a full
    scan.
    """
    if user.role == Role.COORDINATOR:
        return true()
    if user.role != Role.GUIDE:
        return false()
    return Household.id.in_(
        union_all(
            ids_in_municipalities(user.municipality_codes),
            select(_VISIBLE.c.id).where(_VISIBLE.c.guide_id == user.id),
            select(HouseholdShare.household_id).where(HouseholdShare.user_id == user.id),
        )
    )


def household_visible(user: User) -> ColumnElement[bool]:
    """The same rule as ``household_scope``, shaped for looking at one household: each
    branch is an index look-up for that row, where the list form would gather every id."""
    if user.role == Role.COORDINATOR:
        return true()
    if user.role != Role.GUIDE:
        return false()
    return or_(
        Household.guide_id == user.id,
        exists().where(
            household_municipality.c.household_id == Household.id,
            household_municipality.c.municipality_code.in_(sorted(user.municipality_codes)),
        ),
        exists().where(
            HouseholdShare.household_id == Household.id, HouseholdShare.user_id == user.id
        ),
    )


def ids_in_municipalities(codes) -> Select:
    """Ids of households whose primary or other municipality is one of ``codes``."""
    return select(household_municipality.c.household_id).where(
        household_municipality.c.municipality_code.in_(sorted(codes))
    )


def get_household_or_404(household_id: int, options: Iterable = ()) -> Household:
    """The household if the current user may see it; 404 otherwise (no existence leak)."""
    stmt = (
        select(Household)
        .where(Household.id == household_id, household_visible(current_user))
        .options(*options)
    )
    household = db.session.scalars(stmt).unique().one_or_none()
    if household is None:
        abort(404)
    return household


def can_see_household(user: User, household_id: int) -> bool:
    stmt = select(Household.id).where(Household.id == household_id, household_visible(user))
    return db.session.scalar(stmt) is not None


def get_followup_or_404(followup_id: int):
    """The follow-up if the current user may see its household; 404 otherwise."""
    from lotsen.followups.models import FollowUp

    followup = db.session.scalars(
        select(FollowUp)
        .join(Household, Household.id == FollowUp.household_id)
        .where(FollowUp.id == followup_id, household_visible(current_user))
    ).one_or_none()
    if followup is None:
        abort(404)
    return followup
