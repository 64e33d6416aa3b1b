"""The household page (and the list) assembled in one place, apart from request handling.

The page is a set of **panels** (cards). A feature adds its own without touching the
households blueprint, from a ``panels.py`` of its own that its routes module imports:

    from lotsen.households.pages import register_panel

    register_panel(
        "matches",                               # unique name; registering again replaces it
        order=35,                                # place within the column (see PANELS below)
        template="matching/_panel.html",         # included with the page's context
        context=lambda household: {"matches": find_matches(household)},
        roles={Role.COORDINATOR},                # None: everyone who may open the page
        column="side",                           # or "main"
    )

The template sees ``household``, ``panel`` and every panel's context (one namespace: prefix
names with the feature). A view that re-shows the page with an invalid form passes it by
name: ``render_household(household, 400, matches_form=form)``.

Views receive the household loaded once per request with ``@with_household`` (the user's
scope applied: 404 otherwise); ``load_household(id)`` does the same for other code paths.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, wraps

from flask import current_app, g, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.datastructures import MultiDict

from lotsen.access import (
    get_household_or_404,
    household_visible,
    household_visible_to,
)
from lotsen.accounts.models import Role, User
from lotsen.accounts.services import active_guide_names
from lotsen.extensions import db
from lotsen.followups.forms import BulkFollowUpForm
from lotsen.forms import blank_form
from lotsen.households.forms import (
    GuideChoiceForm,
    HouseholdFilterForm,
    MergeForm,
    NoteForm,
    StageForm,
)
from lotsen.households.merge import possible_duplicates
from lotsen.households.models import Household, HouseholdShare
from lotsen.households.page_data import PageHousehold, page_household
from lotsen.households.queries import Filters, list_households
from lotsen.households.timeline import timeline
from lotsen.kept import kept
from lotsen.regions.models import Municipality, municipality_refs

PAGE_OPTIONS = (
    selectinload(Household.persons),
    selectinload(Household.municipalities),
    selectinload(Household.tags),
    selectinload(Household.shares).joinedload(HouseholdShare.user),
    joinedload(Household.guide),
    joinedload(Household.primary_municipality),
)

# -- the household of this request ---------------------------------------------------------


def load_household(household_id: int) -> Household:
    """The household with what its page shows, if the user may see it (404 otherwise);
    loaded once per request however often it is asked for."""
    household = g.get("page_household")
    if household is None or household.id != household_id:
        household = g.page_household = get_household_or_404(household_id, PAGE_OPTIONS)
    return household


def with_household(view: Callable) -> Callable:
    """Turns the route's ``household_id`` into ``household`` for the view."""

    @wraps(view)
    def wrapper(*args, household_id: int, **kwargs):
        return view(*args, household=load_household(household_id), **kwargs)

    return wrapper


def page_guides(household: Household) -> list:
    """The active guides for the page's choices (hand over, share) as plain rows (id, name,
    municipality, sees: whether they may see ``household``), read once per request."""
    if g.get("page_guides_of") != household.id:
        g.page_guides = (
            db.session.connection()
            .execute(_page_guides_statement(), {"household_id": household.id})
            .all()
        )
        g.page_guides_of = household.id
    return g.page_guides


def guides_who_see(household: Household) -> list:
    """``people_who_see(household)`` as rows, from the same query as ``page_guides``: the
    guides its follow-ups can be assigned to."""
    return [guide for guide in page_guides(household) if guide.sees]


@cache
def _page_guides_statement():
    """Built once: the scope rule's expression is costly to build and to key per request."""
    return (
        select(
            User.id,
            User.name,
            Municipality.name.label("municipality"),
            household_visible_to(User.id).label("sees"),
        )
        .outerjoin(Municipality, Municipality.code == User.municipality_code)
        .join(Household, Household.id == bindparam("household_id"))
        .where(User.role == Role.GUIDE, User.active.is_(True))
        .order_by(User.name)
    )


# -- panels ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    name: str
    order: int
    template: str
    context: Callable[[Household], dict] | None = None
    roles: frozenset | None = None
    column: str = "side"

    def shown_to(self, user) -> bool:
        return self.roles is None or user.role in self.roles


_PANELS: dict[str, Panel] = {}


def register_panel(
    name: str,
    *,
    order: int,
    template: str,
    context: Callable[[Household], dict] | None = None,
    roles=None,
    column: str = "side",
) -> Panel:
    """Add a card to the household page (see the module's docstring)."""
    if column not in ("main", "side"):
        raise ValueError(f"column must be 'main' or 'side', not {column!r}")
    panel = Panel(name, order, template, context, frozenset(roles) if roles else None, column)
    _PANELS[name] = panel
    return panel


def panels_for(user) -> list[Panel]:
    """The panels ``user`` sees, in page order."""
    return sorted(
        (p for p in _PANELS.values() if p.shown_to(user)), key=lambda p: (p.order, p.name)
    )


def render_household(household: Household | PageHousehold, status: int = 200, **forms):
    """The household page; ``forms`` replace a panel's empty forms (to show errors). The
    panels see the household as ``PageHousehold`` (plain values), read here if a view
    that changes it (and shows the page again with errors) passes the ORM object."""
    if not isinstance(household, PageHousehold):
        household = page_household(household.id)
    shown = panels_for(current_user)
    context: dict = {}
    for panel in shown:
        if panel.context is not None:
            context.update(panel.context(household))
    context.update(forms)
    html = render_template(
        "households/view.html",
        household=household,
        main_panels=[p for p in shown if p.column == "main"],
        side_panels=[p for p in shown if p.column == "side"],
        **context,
    )
    return html, status


# -- the household feature's own panels -------------------------------------------------------

GUIDE_CHOICE_LABELS = {"handover": _l("Hand over to"), "share": _l("Share with")}


def guide_choice_form(prefix: str, guides, **kwargs) -> GuideChoiceForm:
    return GuideChoiceForm(
        prefix=prefix, guides=guides, label=GUIDE_CHOICE_LABELS[prefix], **kwargs
    )


def _blank_guide_choice(prefix: str, guides) -> GuideChoiceForm:
    return blank_form(
        GuideChoiceForm, prefix=prefix, guides=guides, label=GUIDE_CHOICE_LABELS[prefix]
    )


class _KindTemplates(dict):
    """templates/households/timeline/<kind>.html (or _unknown.html) per kind, looked up once:
    the timeline includes one per entry, and a long history has hundreds."""

    def __init__(self, environment):
        super().__init__()
        self.environment = environment

    def __missing__(self, kind):
        names = [f"households/timeline/{kind}.html", "households/timeline/_unknown.html"]
        template = self[kind] = self.environment.select_template(names)
        return template


def _kind_templates() -> _KindTemplates:
    environment = current_app.jinja_env
    if environment.auto_reload:  # templates being edited: look them up afresh
        return _KindTemplates(environment)
    return current_app.extensions.setdefault("lotsen_timeline", _KindTemplates(environment))


def _timeline(household: Household) -> dict:
    items, truncated = timeline(household.id)
    return {
        "timeline": items,
        "timeline_truncated": truncated,
        "timeline_templates": _kind_templates(),
        "note_form": blank_form(NoteForm),
    }


def _duplicates(household: Household) -> dict:
    return {
        "duplicates": possible_duplicates(household, household_visible(current_user)),
        "merge_form": blank_form(MergeForm),
    }


def _sharing(household: Household) -> dict:
    me = current_user.id
    guides = [g for g in page_guides(household) if g.id != me]  # not to oneself
    return {
        "handover_form": _blank_guide_choice("handover", guides),
        "share_form": _blank_guide_choice("share", guides),
    }


register_panel(
    "timeline", order=20, column="main", template="households/_timeline.html", context=_timeline
)
register_panel("details", order=10, template="households/_details.html")
register_panel("members", order=20, template="households/_members.html")
register_panel(
    "stage",
    order=40,
    template="households/_stage.html",
    context=lambda household: {
        "stage_form": blank_form(
            StageForm, data={"stage": household.stage, "close_reason": household.close_reason}
        )
    },
)
register_panel("duplicates", order=50, template="households/_duplicates.html", context=_duplicates)
register_panel("sharing", order=60, template="households/_sharing.html", context=_sharing)

# -- the list -----------------------------------------------------------------------------------


def filter_form() -> HouseholdFilterForm:
    """The list's filters, from the query string. Without one (the list as first opened, its
    most common view) the form is the same for everyone with the same language and options:
    built once and shared, as it is only read (validated, drawn, its defaults made into
    filters: every field is optional, so it validates the same for everyone); building the
    22 fields cost a sixth of the page."""
    municipalities, guides = municipality_refs(), active_guide_names()
    if request.args:
        return HouseholdFilterForm(request.args, municipalities=municipalities, guides=guides)

    def build():
        return HouseholdFilterForm(MultiDict(), municipalities=municipalities, guides=guides)

    store = current_app.extensions.setdefault("lotsen_unfiltered_forms", {})
    return kept(store, (str(get_locale()), municipalities, tuple(map(tuple, guides))), build, 64)


def filters_of(form: HouseholdFilterForm) -> Filters:
    return Filters(**{k: form[k].data for k in Filters.__dataclass_fields__})


def render_list(status: int = 200, **forms):
    """The household list with its filters; ``forms`` (e.g. ``bulk_form``) replace the
    empty forms other features add to it."""
    form = filter_form()
    if not form.validate():
        return render_template("households/index.html", form=form, page=None), 400
    page = list_households(
        current_user,
        filters_of(form),
        page=form.page.data or 1,
        per_page=current_app.config["HOUSEHOLDS_PER_PAGE"],
    )
    forms.setdefault("bulk_form", BulkFollowUpForm(formdata=None))
    return render_template("households/index.html", form=form, page=page, **forms), status
