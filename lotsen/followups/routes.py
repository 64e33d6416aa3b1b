from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lotsen import clock
from lotsen.access import (
    HOUSEHOLD_ROLES,
    PUBLIC,
    STAFF,
    allow,
    get_followup_or_404,
    people_who_see,
)
from lotsen.accounts.models import Role, User
from lotsen.contacts.services import log_contact
from lotsen.extensions import db
from lotsen.followups import panels  # noqa: F401  (adds the follow-up card to the household page)
from lotsen.followups.actions import DayLines, FollowUpActions
from lotsen.followups.forms import (
    BulkFollowUpForm,
    CompleteForm,
    FollowUpForm,
    RescheduleForm,
    SnoozeForm,
    action_forms,
    rule_form,
)
from lotsen.followups.ical import disable_calendar_feed, enable_calendar_feed, followups_calendar
from lotsen.followups.models import FollowUpStatus
from lotsen.followups.rules import RULES, rule_settings, save_rule
from lotsen.followups.services import (
    bulk_create,
    cancel_followup,
    complete_followup,
    create_followup,
    my_day,
    overdue_by_guide,
    reschedule_followup,
    snooze_target,
    unassigned_open,
)
from lotsen.households.models import Household
from lotsen.households.pages import (
    filter_form,
    filters_of,
    load_household,
    render_household,
    render_list,
    with_household,
)
from lotsen.households.queries import household_query
from lotsen.urls import next_url, query_args

bp = Blueprint("followups", __name__)


def today():
    return clock.today()


@bp.route("/my-day")
@allow(*HOUSEHOLD_ROLES)
def my_day_page():
    return render_my_day()


def render_my_day(status: int = 200, failed_action=None):
    day = today()
    coordinator = current_user.role == Role.COORDINATOR
    back = url_for("followups.my_day_page")
    return render_template(
        "followups/my_day.html",
        day=my_day(current_user, day),
        guides=overdue_by_guide(day) if coordinator else None,
        unassigned=unassigned_open(day) if coordinator else None,
        today=day,
        back=back,
        actions=FollowUpActions(back),
        day_line=DayLines(),
        action_forms=action_forms,
        failed_action=failed_action,
    ), status


@bp.route("/households/<int:household_id>/followups", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
@with_household
def create(household: Household):
    form = FollowUpForm(guides=people_who_see(household))  # only they may be chosen
    if not form.validate():
        return render_household(household, 400, followup_form=form)
    assignee = db.session.get(User, form.assignee_id.data) if form.assignee_id.data else None
    create_followup(
        household,
        due_on=form.due_on.data,
        due_time=form.due_time.data,
        by=current_user,
        title=form.title.data,
        assignee=assignee,
        note=form.note.data or None,
    )
    db.session.commit()
    flash(_("The follow-up has been created."), "success")
    return redirect(url_for("households.view", household_id=household.id))


def _back(followup, form):
    """Show the page the action came from again (household page or my day), with the
    form's errors at its fields."""
    failed = (followup.id, form)
    if next_url("followups.my_day_page").startswith("/households/"):
        household = load_household(followup.household_id)
        return render_household(household, 400, failed_action=failed)
    return render_my_day(400, failed_action=failed)


def _open_or_404(followup_id: int):
    followup = get_followup_or_404(followup_id)
    if followup.status != FollowUpStatus.OPEN:
        flash(_("This follow-up is already closed."), "info")
        return followup, False
    return followup, True


@bp.route("/followups/<int:followup_id>/complete", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
def complete(followup_id: int):
    followup, is_open = _open_or_404(followup_id)
    if is_open:
        form = CompleteForm()
        if not form.validate():
            return _back(followup, form)
        if form.log_contact.data:
            log_contact(
                followup.household,
                current_user,
                channel=form.channel.data,
                direction=form.direction.data,
                summary=form.summary.data,
            )
        complete_followup(followup, current_user)
        db.session.commit()
        flash(_("Done: %(title)s", title=followup.title), "success")
    return redirect(next_url("followups.my_day_page"))


@bp.route("/followups/<int:followup_id>/snooze", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
def snooze(followup_id: int):
    followup, is_open = _open_or_404(followup_id)
    form = SnoozeForm()
    if is_open and form.validate():
        reschedule_followup(
            followup,
            snooze_target(form.until.data, today()),
            followup.due_time,
            by=current_user,
        )
        db.session.commit()
        flash(_("Moved to %(date)s.", date=followup.due_on.isoformat()), "success")
    elif is_open:
        flash(_("Choose when the follow-up should come back."), "error")
        return _back(followup, form)
    return redirect(next_url("followups.my_day_page"))


@bp.route("/followups/<int:followup_id>/reschedule", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
def reschedule(followup_id: int):
    followup, is_open = _open_or_404(followup_id)
    form = RescheduleForm()
    if is_open and form.validate():
        reschedule_followup(followup, form.due_on.data, form.due_time.data, by=current_user)
        db.session.commit()
        flash(_("Moved to %(date)s.", date=followup.due_on.isoformat()), "success")
    elif is_open:
        flash(_("Give a valid date."), "error")
        return _back(followup, form)
    return redirect(next_url("followups.my_day_page"))


@bp.route("/followups/<int:followup_id>/cancel", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
def cancel(followup_id: int):
    followup, is_open = _open_or_404(followup_id)
    if is_open:
        cancel_followup(followup, current_user)
        db.session.commit()
        flash(_("The follow-up has been cancelled."), "success")
    return redirect(next_url("followups.my_day_page"))


@bp.route("/households/bulk-followups", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
def bulk():
    """A follow-up for every household of the filtered list (the filters come along)."""
    filters_form = filter_form()
    form = BulkFollowUpForm()
    if not filters_form.validate():
        abort(400)
    if not form.validate():
        return render_list(400, bulk_form=form)
    count = bulk_create(
        household_query(current_user, filters_of(filters_form)),
        due_on=form.bulk_due_on.data,
        title=form.bulk_title.data,
        by=current_user,
    )
    db.session.commit()
    flash(_("%(n)d follow-ups have been created.", n=count), "success")
    return redirect(url_for("households.index", **query_args(f.name for f in filters_form)))


@bp.route("/followups/rules", methods=["GET", "POST"])
@allow(Role.COORDINATOR, Role.ADMIN)
def rules():
    if request.method == "POST":
        forms = {name: rule_form(rule) for name, rule in RULES.items()}
        if all([f.validate() for f in forms.values()]):  # every form: errors show on each
            for name, form in forms.items():
                save_rule(name, form.enabled.data, form.params(), current_user)
            db.session.commit()
            flash(_("The rules have been saved."), "success")
            return redirect(url_for("followups.rules"))
        return render_template("followups/rules.html", rules=RULES, forms=forms), 400
    settings = rule_settings()
    forms = {name: rule_form(rule, *settings[name]) for name, rule in RULES.items()}
    return render_template("followups/rules.html", rules=RULES, forms=forms)


@bp.route("/settings/calendar", methods=["POST"])
@allow(*STAFF)
def calendar_enable():
    enable_calendar_feed(current_user)
    db.session.commit()
    flash(_("Your calendar link is ready. An earlier link no longer works."), "success")
    return redirect(url_for("accounts.settings") + "#calendar")


@bp.route("/settings/calendar/delete", methods=["POST"])
@allow(*STAFF)
def calendar_disable():
    disable_calendar_feed(current_user)
    db.session.commit()
    flash(_("Your calendar link has been switched off."), "success")
    return redirect(url_for("accounts.settings") + "#calendar")


@bp.route("/calendar/<token>.ics")
@allow(PUBLIC)
def calendar_feed(token: str):
    """The feed is found by its secret token alone: calendar apps cannot log in."""
    if len(token) < 20:
        abort(404)
    user = db.session.scalar(select(User).where(User.ical_token == token, User.active.is_(True)))
    if user is None:
        abort(404)
    response = Response(followups_calendar(user, clock.now()), mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="lotsen.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
