"""Staff pages of events: the list, the form, one event's page, attendance on a phone, and
signing a household up from its page."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from lotsen import clock
from lotsen.access import (
    EVENT_ROLES,
    HOUSEHOLD_ROLES,
    allow,
    can_see_household,
    get_event_or_404,
    get_signup_or_404,
)
from lotsen.accounts.models import Role, User
from lotsen.events import (
    bp,
    panels,  # noqa: F401  (adds the events card to the household page)
)
from lotsen.events.forms import (
    LANGUAGE_NAMES,
    AttendanceForm,
    EventFilterForm,
    EventForm,
    to_utc,
)
from lotsen.events.models import Event
from lotsen.events.optin import mail_signup, notify_promoted
from lotsen.events.panels import signup_form_for
from lotsen.events.services import (
    NEXT_STATUSES,
    ON_ATTENDANCE_LIST,
    EventData,
    EventError,
    EventFilters,
    list_events,
    may_create_events,
    may_manage,
    save_event,
    signup_list,
    waiting_position,
)
from lotsen.events.signups import SignupError, places_taken, set_status, sign_up
from lotsen.events.vocab import EventStatus, EventType, SignupChannel, SignupStatus, label
from lotsen.extensions import db
from lotsen.households.models import Household
from lotsen.households.pages import render_household, with_household
from lotsen.regions.models import all_municipalities

PER_PAGE = 50
EVENT_MANAGERS = (Role.GUIDE, Role.COORDINATOR)
ACTION_LABELS = {
    SignupStatus.ATTENDED: _l("Attended"),
    SignupStatus.NO_SHOW: _l("No-show"),
    SignupStatus.CANCELLED: _l("Cancel"),
    SignupStatus.REGISTERED: _l("Back to signed up"),
}


@bp.route("")
@allow(*EVENT_ROLES)
def index():
    form = EventFilterForm(request.args, municipalities=all_municipalities())
    if not form.validate():
        return render_template("events/index.html", form=form, rows=None), 400
    page = form.page.data or 1
    rows, total = list_events(
        EventFilters(
            when=form.when.data or "upcoming",
            status=form.status.data,
            kind=form.kind.data,
            municipality=form.municipality.data,
        ),
        clock.now(),
        page=page,
        per_page=PER_PAGE,
    )
    return render_template(
        "events/index.html",
        form=form,
        rows=rows,
        total=total,
        page=page,
        per_page=PER_PAGE,
        may_create=may_create_events(current_user),
    )


# -- the form ------------------------------------------------------------------------------


def _choosable_municipalities():
    """Municipalities the current user may put an event in: a guide's own, or all."""
    everything = all_municipalities()
    if current_user.role == Role.COORDINATOR:
        return everything
    return [m for m in everything if m.code in current_user.municipality_codes]


def _staff_choices() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.active.is_(True), User.role.in_(EVENT_MANAGERS))
            .order_by(User.name)
        )
    )


def _edit(event: Event | None):
    municipalities = _choosable_municipalities()
    if not municipalities:
        abort(403)
    own = {m.code for m in municipalities}
    # A guide keeps the other municipalities already on the event (they may not change them).
    kept = sorted(event.municipality_codes - own) if event else []
    form = EventForm(
        obj=event,
        municipalities=municipalities,
        staff=_staff_choices(),
        slug_editable=current_user.role == Role.COORDINATOR and event is not None,
        event_id=event.id if event else None,
    )
    if request.method == "GET":
        if event is not None:
            form.fill(event)
        else:
            form.municipalities.data = sorted(own) if len(own) == 1 else []
            form.staff.data = [current_user.id]
    if form.validate_on_submit():
        chosen = list(form.municipalities.data or [])
        if not chosen and not kept:
            form.municipalities.errors.append(_("Choose at least one municipality."))
        else:
            data = EventData(
                name=form.name.data,
                kind=EventType(form.kind.data),
                starts_at=to_utc(form.starts_at.data),
                ends_at=to_utc(form.ends_at.data),
                status=EventStatus(form.status.data),
                municipality_codes=sorted({*chosen, *kept}),
                staff_ids=list(form.staff.data or []),
                place=form.place.data,
                country=form.country.data,
                online_url=form.online_url.data,
                capacity=form.capacity.data,
                cost_sek=form.cost_sek.data,
                descriptions=form.descriptions(),
                slug=form.slug.data if "slug" in form else None,
            )
            try:
                saved = save_event(data, current_user, event)
            except EventError:
                db.session.rollback()
                form.slug.errors.append(_("Another event has this address."))
            else:
                taken = places_taken(saved)
                db.session.commit()
                flash(_("The event has been saved."), "success")
                if saved.capacity is not None and taken > saved.capacity:
                    flash(
                        _(
                            "%(taken)d places are taken, more than the %(capacity)d places "
                            "now set: nobody loses a place, and the waiting list waits until "
                            "enough places are free.",
                            taken=taken,
                            capacity=saved.capacity,
                        ),
                        "warning",
                    )
                return redirect(url_for("events.view", event_id=saved.id))
    status = 400 if form.is_submitted() else 200
    kept_names = ", ".join(m.name for m in event.municipalities if m.code in kept) if kept else ""
    return render_template(
        "events/form.html", form=form, event=event, kept=kept, kept_names=kept_names
    ), status


@bp.route("/new", methods=["GET", "POST"])
@allow(*EVENT_MANAGERS)
def new():
    return _edit(None)


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@allow(*EVENT_MANAGERS)
def edit(event_id: int):
    return _edit(get_event_or_404(event_id, manage=True))


# -- one event -----------------------------------------------------------------------------


@bp.route("/<int:event_id>")
@allow(*EVENT_ROLES)
def view(event_id: int):
    """Every event-working role sees the event; its sign-ups only as far as the household
    scope reaches (the rest as a count), a communicator counts alone."""
    event = get_event_or_404(event_id, manage=False)
    signups = signup_list(event, current_user)
    return render_template(
        "events/view.html",
        event=event,
        signups=signups,
        manage=may_manage(current_user, event),
        names=current_user.role != Role.COMMUNICATOR,
        language_names=LANGUAGE_NAMES,
    )


def _attendance_page(event: Event, status: int = 200, error: str | None = None):
    return render_template(
        "events/attendance.html",
        event=event,
        signups=signup_list(event, current_user, statuses=ON_ATTENDANCE_LIST),
        next_statuses=NEXT_STATUSES,
        action_labels=ACTION_LABELS,
        error=error,
    ), status


@bp.route("/<int:event_id>/attendance", methods=["GET", "POST"])
@allow(*EVENT_MANAGERS)
def attendance(event_id: int):
    """One row per household the user may see, with big buttons; each tap is one POST
    (a sign-up's new status), answered with a redirect back to its row: no JavaScript."""
    event = get_event_or_404(event_id, manage=True)
    if request.method == "GET":
        return _attendance_page(event)
    form = AttendanceForm()
    if not form.validate():
        return _attendance_page(event, 400, _("That did not work: reload the page and tap again."))
    signup = get_signup_or_404(form.signup_id.data)
    if signup.event_id != event.id:
        abort(404)
    new = SignupStatus(form.status.data)
    name = signup.household.name
    if new != signup.status and new not in NEXT_STATUSES[signup.status]:
        flash(
            _(
                "%(name)s: %(status)s cannot be changed to that here.",
                name=name,
                status=label(signup.status),
            ),
            "error",
        )
        return redirect(url_for("events.attendance", event_id=event.id, _anchor=f"s{signup.id}"))
    now = clock.now()
    promoted = set_status(signup, new, by=current_user, now=now)
    notify_promoted(promoted, now)  # a freed place: the person who got it is mailed
    shown = [s.household.name for s in promoted if can_see_household(current_user, s.household_id)]
    db.session.commit()
    flash(_("%(name)s: %(status)s.", name=name, status=label(new)), "success")
    if shown:
        flash(_("Moved up from the waiting list: %(names)s.", names=", ".join(shown)), "success")
    if len(promoted) > len(shown):
        flash(
            ngettext(
                "%(num)d household outside your scope moved up from the waiting list.",
                "%(num)d households outside your scope moved up from the waiting list.",
                len(promoted) - len(shown),
            ),
            "success",
        )
    return redirect(url_for("events.attendance", event_id=event.id, _anchor=f"s{signup.id}"))


# -- from the household page ---------------------------------------------------------------


@bp.route("/households/<int:household_id>/sign-up", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
@with_household
def sign_up_household(household: Household):
    """Sign a household the user may see up for any planned or open event of the region.
    The event's own guides see the sign-up by name only if the household is in their
    scope (otherwise as a count). Ticked, the household is mailed its answer (a place with
    the .ics invitation, or the waiting list), as after a public sign-up."""
    form = signup_form_for(household)
    if not form.validate():
        return render_household(household, 400, event_signup_form=form)
    event = db.session.get(Event, form.event_id.data)
    try:
        signup = sign_up(
            event,
            household,
            channel=SignupChannel.STAFF,
            by=current_user,
            people=form.people.data,
        )
    except SignupError:
        form.event_id.errors.append(_("This event takes no sign-ups any more."))
        return render_household(household, 400, event_signup_form=form)
    mailed = form.send_confirmation.data and mail_signup(signup, clock.now())
    db.session.commit()
    if signup.status == SignupStatus.WAITLISTED:
        flash(
            _(
                "%(event)s is full: %(name)s is on the waiting list, place %(position)d.",
                event=event.name,
                name=household.name,
                position=waiting_position(signup),
            ),
            "warning",
        )
    else:
        flash(
            _("%(name)s is signed up for %(event)s.", name=household.name, event=event.name),
            "success",
        )
    if mailed:
        flash(_("A confirmation goes to %(email)s.", email=household.email), "success")
    return redirect(url_for("households.view", household_id=household.id, _anchor="events"))
