"""Who may do what: every view declares its roles; household scope lives here only.

A view without a declaration is refused (403) at runtime, and the generated permission
test in tests/test_permissions.py fails, so a new route cannot slip through unguarded.
"""

from collections.abc import Callable, Iterable
from functools import lru_cache

from flask import abort, current_app, request
from flask_login import current_user
from sqlalchemy import Select, and_, bindparam, exists, false, or_, select, true, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from lotsen.accounts.models import Role, User, user_extra_municipality
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
    return Household.id.in_(_guide_household_ids(user))


def _guide_household_ids(user: User):
    return _household_ids_of_guide(user.id, _codes(user))


def _codes(user: User) -> tuple[str, ...]:
    return tuple(sorted(user.municipality_codes))


def scope_key(user: User) -> tuple:
    """Everything the scope rule reads from ``user`` (read afresh on every request): a key
    for statements built once per scope, which a changed scope misses at once."""
    return (user.role, user.id, _codes(user))


# The scope conditions are built once per guide and set of municipalities (both read afresh
# from the database on every request, so a changed scope gives a new condition at once):
# building one costs more than running it, and SQL expressions can be shared by statements.
@lru_cache(maxsize=1024)
def _household_ids_of_guide(user_id: int, codes: tuple[str, ...]):
    return union_all(
        ids_in_municipalities(codes),
        select(_VISIBLE.c.id).where(_VISIBLE.c.guide_id == user_id),
        select(HouseholdShare.household_id).where(HouseholdShare.user_id == user_id),
    )


def aggregate_scope(user: User, household_id=None, few: bool = False) -> ColumnElement[bool]:
    """SQL condition for the households counted in ``user``'s aggregate figures: the
    household scope, except that a communicator (who sees figures but no household) counts
    every household.

    ``household_id``: the condition on that column (a row's household id) instead of on
    ``Household``, so that a figure over other tables need not read the households.
    ``few``: shaped for a query over few households that joins ``Household``
    (``household_visible``: one index look-up per household instead of gathering every id
    the user may see)."""
    if user.role == Role.COMMUNICATOR or user.role == Role.COORDINATOR:
        return true()
    if user.role != Role.GUIDE:
        return false()
    if few:
        return household_visible(user)
    column = Household.id if household_id is None else household_id
    return column.in_(_guide_household_ids(user))


def household_visible(user: User) -> ColumnElement[bool]:
    """The same rule as ``household_scope``, shaped for looking at one household: each
    branch is an index look-up for that row, where the list form would gather every id."""
    if user.role == Role.COORDINATOR:
        return true()
    if user.role != Role.GUIDE:
        return false()
    return _visible_to_guide(user.id, _codes(user))


@lru_cache(maxsize=1024)
def _visible_to_guide(user_id: int, codes: tuple[str, ...]) -> ColumnElement[bool]:
    return or_(
        Household.guide_id == user_id,
        exists().where(
            household_municipality.c.household_id == Household.id,
            household_municipality.c.municipality_code.in_(codes),
        ),
        exists().where(
            HouseholdShare.household_id == Household.id, HouseholdShare.user_id == user_id
        ),
    )


def household_visible_to(user_id: ColumnElement[int]) -> ColumnElement[bool]:
    """The same rule as ``household_visible``, for the user whose id is a column of the
    query (``FollowUp.assignee_id``, ``User.id``): for queries over many users at once —
    digests, reminders, overviews, the people a follow-up can be assigned to. ``Household``
    must be in the query. tests/test_scope.py checks that both forms agree."""
    viewer = aliased(User)
    hm, extra = household_municipality.c, user_extra_municipality.c

    def has_role(role: Role):
        return exists().where(viewer.id == user_id, viewer.role == role)

    return or_(
        has_role(Role.COORDINATOR),
        and_(
            has_role(Role.GUIDE),
            or_(
                Household.guide_id == user_id,
                exists().where(
                    hm.household_id == Household.id,
                    viewer.id == user_id,
                    hm.municipality_code == viewer.municipality_code,
                ),
                exists().where(
                    hm.household_id == Household.id,
                    extra.user_id == user_id,
                    hm.municipality_code == extra.municipality_code,
                ),
                exists().where(
                    HouseholdShare.household_id == Household.id, HouseholdShare.user_id == user_id
                ),
            ),
        ),
    )


def people_who_see(household: Household, roles=(Role.GUIDE,)) -> list[User]:
    """The active users of ``roles`` who may see ``household``: whom its work can go to."""
    return list(
        db.session.scalars(
            select(User)
            .join(Household, Household.id == household.id)
            .where(User.active.is_(True), User.role.in_(roles), household_visible_to(User.id))
            .order_by(User.name)
        )
    )


def ids_in_municipalities(codes) -> Select:
    """Ids of households whose primary or other municipality is one of ``codes``."""
    return select(household_municipality.c.household_id).where(
        household_municipality.c.municipality_code.in_(sorted(codes))
    )


def get_household_or_404(household_id: int, options: Iterable = ()) -> Household:
    """The household if the current user may see it; 404 otherwise (no existence leak)."""
    stmt = _household_statement(household_visible(current_user), tuple(options))
    household = db.session.scalars(stmt, {"household_id": household_id}).unique().one_or_none()
    if household is None:
        abort(404)
    return household


@lru_cache(maxsize=256)
def _household_statement(visible: ColumnElement[bool], options: tuple) -> Select:
    """Built once per scope condition and set of loader options (every household page)."""
    return (
        select(Household)
        .where(Household.id == bindparam("household_id"), visible)
        .options(*options)
    )


def household_row_or_404(household_id: int, statement: Callable[[ColumnElement[bool]], Select]):
    """A row about the household if the current user may see it; 404 otherwise.
    ``statement(visible)`` builds (and caches) a statement with that condition and a
    ``household_id`` parameter: a page that shows plain values instead of the ORM object."""
    stmt = statement(household_visible(current_user))
    row = db.session.connection().execute(stmt, {"household_id": household_id}).one_or_none()
    if row is None:
        abort(404)
    return row


def can_see_household(user: User, household_id: int) -> bool:
    stmt = select(Household.id).where(Household.id == household_id, household_visible(user))
    return db.session.scalar(stmt) is not None


# Listings and job openings belong to a municipality. The rule, beside the household rule:
# a coordinator sees and changes all of them; a guide sees and changes those of their own
# municipalities (primary and extra), and sees another municipality's listing or job only
# through a household they may see — as a suggestion or a match of that household (the
# guide of a household shared with them can suggest Malå homes to it, send them, record
# the answer and accept; accepting reserves the listing). Editing, status changes and
# imports stay with the listing's own municipality. Admins see none.


def municipal_scope(user: User, model) -> ColumnElement[bool]:
    """SQL condition for the listings or jobs (``model``) ``user`` may see and change."""
    if user.role == Role.COORDINATOR:
        return true()
    if user.role != Role.GUIDE:
        return false()
    return model.municipality_code.in_(sorted(user.municipality_codes))


def can_change_municipal(user: User, municipality_code: str) -> bool:
    return user.role == Role.COORDINATOR or (
        user.role == Role.GUIDE and municipality_code in user.municipality_codes
    )


def may_offer(user: User, household: Household, municipality_code: str) -> bool:
    """Whether ``user`` may suggest a listing or job of ``municipality_code`` to a household
    they can see: one of the household's municipalities of interest, or one of their own."""
    return municipality_code in household.municipality_codes or can_change_municipal(
        user, municipality_code
    )


def get_municipal_or_404(model, object_id: int, change: bool = False):
    """A listing or job the current user may see (``change``: may change); 404 otherwise.
    Seeing reaches further than changing: through a match with a visible household."""
    from lotsen.matching.models import Listing, Match

    condition = municipal_scope(current_user, model)
    if not change and current_user.role == Role.GUIDE:
        link = Match.listing_id if model is Listing else Match.job_id
        condition = or_(
            condition,
            exists().where(
                link == model.id,
                Match.household_id.in_(select(Household.id).where(household_visible(current_user))),
            ),
        )
    obj = db.session.scalars(select(model).where(model.id == object_id, condition)).one_or_none()
    if obj is None:
        abort(404)
    return obj


def _row_of_visible_household_or_404(model, object_id: int):
    """A row of ``model`` (with a ``household_id``) if the current user may see its
    household; 404 otherwise."""
    obj = db.session.scalars(
        select(model)
        .join(Household, Household.id == model.household_id)
        .where(model.id == object_id, household_visible(current_user))
    ).one_or_none()
    if obj is None:
        abort(404)
    return obj


def get_match_or_404(match_id: int):
    """A match if the current user may see its household; 404 otherwise."""
    from lotsen.matching.models import Match

    return _row_of_visible_household_or_404(Match, match_id)


def get_followup_or_404(followup_id: int):
    """The follow-up if the current user may see its household; 404 otherwise."""
    from lotsen.followups.models import FollowUp

    return _row_of_visible_household_or_404(FollowUp, followup_id)


def importable_municipalities(user: User) -> set[str] | None:
    """Where ``user`` may import households to: a guide's municipalities; None is any."""
    if user.role == Role.COORDINATOR:
        return None
    return set(user.municipality_codes) if user.role == Role.GUIDE else set()


def get_import_batch_or_404(batch_id: int):
    """An import the current user made (coordinators: any import); 404 otherwise."""
    from lotsen.imports.models import ImportBatch

    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or (
        current_user.role != Role.COORDINATOR and batch.user_id != current_user.id
    ):
        abort(404)
    return batch


# Events belong to the municipalities taking part. A coordinator manages every event; a
# guide manages those of their municipalities and those they are responsible staff of; a
# communicator sees every event and its aggregate figures but no household behind them.
EVENT_ROLES = (Role.GUIDE, Role.COORDINATOR, Role.COMMUNICATOR)


def event_manageable(user: User) -> ColumnElement[bool]:
    """SQL condition for the events ``user`` may change (and whose sign-ups they handle)."""
    from lotsen.events.models import Event, event_municipality, event_staff

    if user.role == Role.COORDINATOR:
        return true()
    if user.role != Role.GUIDE:
        return false()
    return or_(
        exists().where(
            event_municipality.c.event_id == Event.id,
            event_municipality.c.municipality_code.in_(sorted(user.municipality_codes)),
        ),
        exists().where(event_staff.c.event_id == Event.id, event_staff.c.user_id == user.id),
    )


def get_event_or_404(event_id: int, manage: bool = True):
    """An event the current user may manage (``manage=False``: may see: every staff role
    that works with events sees every event); 404 otherwise."""
    from lotsen.events.models import Event

    condition = event_manageable(current_user) if manage else true()
    if current_user.role not in EVENT_ROLES:
        condition = false()
    event = db.session.scalars(select(Event).where(Event.id == event_id, condition)).one_or_none()
    if event is None:
        abort(404)
    return event


def get_signup_or_404(signup_id: int):
    """A sign-up of a household the current user may see, at an event they manage."""
    from lotsen.events.models import Event, EventSignup

    signup = db.session.scalars(
        select(EventSignup)
        .join(Household, Household.id == EventSignup.household_id)
        .join(Event, Event.id == EventSignup.event_id)
        .where(
            EventSignup.id == signup_id,
            household_visible(current_user),
            event_manageable(current_user),
        )
    ).one_or_none()
    if signup is None:
        abort(404)
    return signup
