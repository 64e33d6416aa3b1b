from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lotsen.access import HOUSEHOLD_ROLES, allow, can_see_household, get_household_or_404
from lotsen.accounts.models import User
from lotsen.accounts.services import active_guides
from lotsen.audit import record_view
from lotsen.extensions import db
from lotsen.households.forms import HouseholdForm, MergeForm, NoteForm, StageForm
from lotsen.households.listing import filter_row, table_rows
from lotsen.households.merge import merge_households
from lotsen.households.models import Household
from lotsen.households.page_data import page_household
from lotsen.households.pages import (
    PAGE_OPTIONS,
    guide_choice_form,
    page_guides,
    render_household,
    render_list,
    with_household,
)
from lotsen.households.services import (
    HouseholdError,
    StaleEdit,
    add_note,
    change_stage,
    create_household,
    hand_over,
    share_household,
    unshare_household,
    update_household,
)
from lotsen.regions.models import all_municipalities
from lotsen.urls import id_url

bp = Blueprint("households", __name__, url_prefix="/households")
bp.add_app_template_global(filter_row)  # the list's filters and rows (listing.py)
bp.add_app_template_global(table_rows)
bp.add_app_template_global(id_url)  # the household page's links (lotsen/urls.py)


@bp.route("")
@allow(*HOUSEHOLD_ROLES)
def index():
    return render_list()


@bp.route("/new", methods=["GET", "POST"])
@allow(*HOUSEHOLD_ROLES)
def new():
    guides = active_guides()
    form = HouseholdForm(municipalities=all_municipalities(), guides=guides)
    if request.method == "GET":
        form.primary_municipality_code.data = current_user.municipality_code
        form.guide_id.data = current_user.id if current_user.is_guide else None
    if form.is_submitted() and (earlier := form.done_before()):
        return redirect(earlier)  # a second click: the household exists already
    if form.validate_on_submit():
        guide = db.session.get(User, form.guide_id.data) if form.guide_id.data else None
        household = create_household(form.household_data(), by=current_user, guide=guide)
        db.session.commit()
        flash(_("The household has been registered."), "success")
        target = url_for("households.view", household_id=household.id)
        form.remember_done(target)
        return redirect(target)
    return render_template(
        "households/form.html", form=form, household=None
    ), 400 if form.errors else 200


@bp.route("/<int:household_id>")
@allow(*HOUSEHOLD_ROLES)
def view(household_id: int):
    page = render_household(page_household(household_id))
    # Logs the view and commits; on SQLite the entry has a write transaction of its own
    # (lotsen/audit/services.py: record_view).
    record_view("household.view", by=current_user, household_id=household_id)
    return page


@bp.route("/<int:household_id>/edit", methods=["GET", "POST"])
@allow(*HOUSEHOLD_ROLES)
@with_household
def edit(household: Household):
    # On POST only what the browser sent counts: no fallback to the stored values.
    form = HouseholdForm(
        obj=household if request.method == "GET" else None,
        municipalities=all_municipalities(),
    )
    del form.guide_id  # the guide changes by handover, which the timeline records
    if request.method == "GET":
        form.version.data = household.version
        form.other_municipalities.data = [m.code for m in household.other_municipalities]
        form.tags.data = ", ".join(t.name for t in household.tags)
    if form.validate_on_submit():
        version = int(form.version.data) if str(form.version.data).isdigit() else None
        try:
            update_household(
                household, form.household_data(), by=current_user, expected_version=version
            )
        except StaleEdit as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
            form.version.data = household.version  # saving again overwrites, as told
        else:
            db.session.commit()
            flash(_("The household has been saved."), "success")
            return redirect(url_for("households.view", household_id=household.id))
    status = 400 if form.errors else 200
    return render_template("households/form.html", form=form, household=household), status


@bp.route("/<int:household_id>/stage", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
@with_household
def stage(household: Household):
    form = StageForm()
    if not form.validate():
        return render_household(household, 400, stage_form=form)
    change = change_stage(
        household, form.stage.data, current_user, form.close_reason.data, form.comment.data
    )
    db.session.commit()
    if change:
        flash(_("The stage has been changed."), "success")
    return redirect(url_for("households.view", household_id=household.id))


@bp.route("/<int:household_id>/notes", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
@with_household
def note(household: Household):
    form = NoteForm()
    if not form.validate():
        return render_household(household, 400, note_form=form)
    add_note(household, form.text.data, current_user)
    db.session.commit()
    flash(_("The note has been saved."), "success")
    return redirect(url_for("households.view", household_id=household.id) + "#timeline")


def _guide_action(household: Household, prefix: str, action, message: str):
    form = guide_choice_form(prefix, page_guides(household))
    if form.validate():
        try:
            action(household, db.session.get(User, form.user_id.data), current_user)
        except HouseholdError as exc:
            form.user_id.errors.append(str(exc))
        else:
            db.session.commit()
            flash(message, "success")
            if not can_see_household(current_user, household.id):
                return redirect(url_for("households.index"))
            return redirect(url_for("households.view", household_id=household.id))
    db.session.rollback()
    return render_household(household, 400, **{f"{prefix}_form": form})


@bp.route("/<int:household_id>/merge", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
@with_household
def merge(household: Household):
    """Merge another household (given by its number) into this one."""
    form = MergeForm()
    if not form.validate() or form.other_id.data == household.id:
        if not form.other_id.errors:
            form.other_id.errors.append(_("Give the number of another household."))
        return render_household(household, 400, merge_form=form)
    other = get_household_or_404(form.other_id.data, PAGE_OPTIONS)
    merge_households(household, other, current_user)
    db.session.commit()
    flash(_("%(other)s has been merged into this household.", other=other.name), "success")
    return redirect(url_for("households.view", household_id=household.id))


@bp.route("/<int:household_id>/handover", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
@with_household
def handover(household: Household):
    return _guide_action(household, "handover", hand_over, _("The household has been handed over."))


@bp.route("/<int:household_id>/shares", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
@with_household
def share(household: Household):
    return _guide_action(household, "share", share_household, _("The household has been shared."))


@bp.route("/<int:household_id>/shares/<int:user_id>/delete", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
@with_household
def unshare(household: Household, user_id: int):
    unshare_household(household, user_id, current_user)
    db.session.commit()
    flash(_("The household is no longer shared."), "success")
    return redirect(url_for("households.view", household_id=household.id))
