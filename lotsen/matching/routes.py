from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from lotsen.access import (
    HOUSEHOLD_ROLES,
    allow,
    get_household_or_404,
    get_match_or_404,
    get_municipal_or_404,
    may_offer,
    municipal_scope,
)
from lotsen.db import utcnow
from lotsen.extensions import db
from lotsen.households.models import Person
from lotsen.matching import (
    csv_import,
    panel,  # noqa: F401  (adds the homes-and-jobs card to the household page)
)
from lotsen.matching.forms import (
    ImportForm,
    JobForm,
    ListFilterForm,
    ListingForm,
    RespondForm,
    StatusForm,
    SuggestForm,
)
from lotsen.matching.models import JobOpening, Listing
from lotsen.matching.services import (
    MatchError,
    accept,
    households_for_job,
    households_for_listing,
    matches_of,
    respond,
    save_job,
    save_listing,
    send_match,
    suggest,
)
from lotsen.matching.vocab import JobStatus, ListingStatus, choices, mlabel
from lotsen.regions.models import all_municipalities
from lotsen.urls import is_safe_next
from lotsen.workdays import local_date

bp = Blueprint("matching", __name__)
PER_PAGE = 50

KINDS = {
    "listings": {
        "model": Listing,
        "form": ListingForm,
        "statuses": ListingStatus,
        "current": ListingStatus.AVAILABLE,
        "save": save_listing,
        "order": Listing.available_from,
    },
    "jobs": {
        "model": JobOpening,
        "form": JobForm,
        "statuses": JobStatus,
        "current": JobStatus.OPEN,
        "save": save_job,
        "order": JobOpening.last_application_date,
    },
}


@bp.record_once
def _template_helpers(state):
    state.app.jinja_env.globals["mlabel"] = mlabel


def today():
    return local_date(utcnow())


def own_municipalities():
    """The municipalities the current user keeps listings and jobs for."""
    everything = all_municipalities()
    if current_user.sees_whole_region:
        return everything
    return [m for m in everything if m.code in current_user.municipality_codes]


def _index(kind: str):
    spec = KINDS[kind]
    model = spec["model"]
    form = ListFilterForm(
        request.args, municipalities=all_municipalities(), statuses=spec["statuses"]
    )
    if not form.validate():
        return render_template("matching/index.html", kind=kind, form=form, items=[]), 400
    stmt = select(model).where(municipal_scope(current_user, model))
    if form.municipality.data:
        stmt = stmt.where(model.municipality_code == form.municipality.data)
    if form.status.data:
        stmt = stmt.where(model.status == form.status.data)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    page = form.page.data or 1
    items = list(
        db.session.scalars(
            stmt.order_by(
                model.status != spec["current"],  # available / open ones first
                model.status,
                spec["order"].is_(None),
                spec["order"],
                model.id.desc(),
            )
            .offset((page - 1) * PER_PAGE)
            .limit(PER_PAGE)
        )
    )
    return render_template(
        "matching/index.html",
        kind=kind,
        form=form,
        items=items,
        total=total,
        page=page,
        per_page=PER_PAGE,
    )


def _edit(kind: str, obj=None):
    spec = KINDS[kind]
    municipalities = own_municipalities()
    if not municipalities:
        abort(403)
    form = spec["form"](obj=obj, municipalities=municipalities)
    if request.method == "GET" and obj is None:
        form.municipality_code.data = current_user.municipality_code
    if form.validate_on_submit():
        try:
            saved = spec["save"](form.data_dict(), current_user, obj)
        except MatchError as exc:
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for(f"matching.{kind[:-1]}", **{f"{kind[:-1]}_id": saved.id}))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("matching/form.html", kind=kind, form=form, obj=obj), status


def _import(kind: str):
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        text = form.csv_text()
        if not text:
            form.file.errors = [_("Choose a CSV file.")]
        else:
            report = csv_import.parse(kind, text, current_user)
            if request.form.get("confirm") and not report.errors and report.valid:
                counts = csv_import.apply(report, current_user)
                db.session.commit()
                flash(
                    _(
                        "Imported: %(new)d new, %(update)d updated, %(unchanged)d unchanged, "
                        "%(error)d rows with errors left out.",
                        **counts,
                    ),
                    "success",
                )
                return redirect(url_for(f"matching.{kind}"))
            form.text.data = text
    status = 400 if form.errors or (report and (report.errors or report.invalid)) else 200
    return render_template("matching/import.html", kind=kind, form=form, report=report), status


# --- listings ----------------------------------------------------------------------------


@bp.route("/listings")
@allow(*HOUSEHOLD_ROLES)
def listings():
    return _index("listings")


@bp.route("/listings/new", methods=["GET", "POST"])
@allow(*HOUSEHOLD_ROLES)
def new_listing():
    return _edit("listings")


@bp.route("/listings/import", methods=["GET", "POST"])
@allow(*HOUSEHOLD_ROLES)
def import_listings():
    return _import("listings")


@bp.route("/listings/<int:listing_id>")
@allow(*HOUSEHOLD_ROLES)
def listing(listing_id: int):
    obj = get_municipal_or_404(Listing, listing_id)
    own = obj.municipality_code in current_user.municipality_codes or current_user.sees_whole_region
    return render_template(
        "matching/listing.html",
        listing=obj,
        own=own,
        matches=matches_of(current_user, listing_id=obj.id),
        candidates=households_for_listing(obj, current_user, today())
        if obj.status == ListingStatus.AVAILABLE
        else [],
        status_form=StatusForm(obj=obj, formdata=None),
        respond_form=RespondForm(formdata=None),
        statuses=choices(ListingStatus),
    )


@bp.route("/listings/<int:listing_id>/edit", methods=["GET", "POST"])
@allow(*HOUSEHOLD_ROLES)
def edit_listing(listing_id: int):
    return _edit("listings", get_municipal_or_404(Listing, listing_id, change=True))


@bp.route("/listings/<int:listing_id>/status", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
def listing_status(listing_id: int):
    obj = get_municipal_or_404(Listing, listing_id, change=True)
    return _set_status(obj, ListingStatus, url_for("matching.listing", listing_id=obj.id))


def _set_status(obj, statuses, target):
    form = StatusForm()
    form.status.choices = choices(statuses)
    if not form.validate_on_submit():
        flash(_("Choose a status."), "error")
        return redirect(target)
    obj.status = statuses(form.status.data)
    db.session.commit()
    flash(_("Status changed to %(status)s.", status=mlabel(obj.status)), "success")
    return redirect(target)


# --- jobs --------------------------------------------------------------------------------


@bp.route("/jobs")
@allow(*HOUSEHOLD_ROLES)
def jobs():
    return _index("jobs")


@bp.route("/jobs/new", methods=["GET", "POST"])
@allow(*HOUSEHOLD_ROLES)
def new_job():
    return _edit("jobs")


@bp.route("/jobs/import", methods=["GET", "POST"])
@allow(*HOUSEHOLD_ROLES)
def import_jobs():
    return _import("jobs")


@bp.route("/jobs/<int:job_id>")
@allow(*HOUSEHOLD_ROLES)
def job(job_id: int):
    obj = get_municipal_or_404(JobOpening, job_id)
    own = obj.municipality_code in current_user.municipality_codes or current_user.sees_whole_region
    return render_template(
        "matching/job.html",
        job=obj,
        own=own,
        matches=matches_of(current_user, job_id=obj.id),
        candidates=households_for_job(obj, current_user) if obj.status == JobStatus.OPEN else [],
        status_form=StatusForm(obj=obj, formdata=None),
        respond_form=RespondForm(formdata=None),
        statuses=choices(JobStatus),
    )


@bp.route("/jobs/<int:job_id>/edit", methods=["GET", "POST"])
@allow(*HOUSEHOLD_ROLES)
def edit_job(job_id: int):
    return _edit("jobs", get_municipal_or_404(JobOpening, job_id, change=True))


@bp.route("/jobs/<int:job_id>/status", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
def job_status(job_id: int):
    obj = get_municipal_or_404(JobOpening, job_id, change=True)
    return _set_status(obj, JobStatus, url_for("matching.job", job_id=obj.id))


# --- the match workflow ------------------------------------------------------------------


def _back(form, fallback: str) -> str:
    return form.next.data if is_safe_next(form.next.data) else fallback


@bp.route("/households/<int:household_id>/matches", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
def suggest_match(household_id: int):
    household = get_household_or_404(household_id)
    form = SuggestForm()
    target = _back(form, url_for("households.view", household_id=household.id) + "#matches")
    if not form.validate_on_submit() or not (form.listing_id.data or form.job_id.data):
        flash(_("Choose a listing or a job."), "error")
        return redirect(target)
    # The household is visible to the user, so any of its suggestions may be recorded,
    # also from another municipality (see access.py).
    listing = db.session.get(Listing, form.listing_id.data) if form.listing_id.data else None
    job_ = db.session.get(JobOpening, form.job_id.data) if form.job_id.data else None
    person = db.session.get(Person, form.person_id.data) if form.person_id.data else None
    if (form.listing_id.data and listing is None) or (form.job_id.data and job_ is None):
        abort(404)
    if not may_offer(current_user, household, (listing or job_).municipality_code):
        abort(404)
    try:
        suggest(household, current_user, listing=listing, job=job_, person=person, today=today())
    except MatchError as exc:
        flash(str(exc), "error")
        return redirect(target)
    db.session.commit()
    flash(_("Suggestion recorded for %(name)s.", name=household.name), "success")
    return redirect(target)


@bp.route("/matches/<int:match_id>/send", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
def send(match_id: int):
    match = get_match_or_404(match_id)
    form = SuggestForm()
    target = _back(form, url_for("households.view", household_id=match.household_id))
    form.validate_on_submit()
    try:
        send_match(match, current_user, utcnow(), today())
    except MatchError as exc:
        flash(str(exc), "error")
        return redirect(target)
    db.session.commit()
    flash(_("The suggestion is on its way to %(email)s.", email=match.household.email), "success")
    return redirect(target)


@bp.route("/matches/<int:match_id>/respond", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
def answer(match_id: int):
    match = get_match_or_404(match_id)
    form = RespondForm()
    target = _back(form, url_for("households.view", household_id=match.household_id))
    if not form.validate_on_submit():
        flash(_("Choose the household's answer."), "error")
        return redirect(target)
    try:
        respond(
            match,
            form.answer.data == "interested",
            form.reason.data,
            utcnow(),
            by=current_user,
        )
    except MatchError as exc:
        flash(str(exc), "error")
        return redirect(target)
    db.session.commit()
    flash(_("Answer recorded."), "success")
    return redirect(target)


@bp.route("/matches/<int:match_id>/accept", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
def accept_match(match_id: int):
    match = get_match_or_404(match_id)
    form = SuggestForm()
    target = _back(form, url_for("households.view", household_id=match.household_id))
    form.validate_on_submit()
    try:
        accept(match, utcnow(), by=current_user)
    except MatchError as exc:
        flash(str(exc), "error")
        return redirect(target)
    db.session.commit()
    flash(_("Accepted."), "success")
    return redirect(target)
