"""Audiences (communicators and coordinators) and the public unsubscribe page."""

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lotsen import clock
from lotsen.access import PUBLIC, allow
from lotsen.accounts.models import Role
from lotsen.audiences import bp, public_bp
from lotsen.audiences import services as svc
from lotsen.audiences.forms import AudienceForm, DeleteForm
from lotsen.events.models import Audience
from lotsen.extensions import csrf, db

AUDIENCE_ROLES = (Role.COMMUNICATOR, Role.COORDINATOR)


def _get_audience_or_404(audience_id: int) -> Audience:
    audience = db.session.get(Audience, audience_id)
    if audience is None:
        abort(404)
    return audience


@bp.route("")
@allow(*AUDIENCE_ROLES)
def index():
    audiences = list(db.session.scalars(select(Audience).order_by(Audience.name, Audience.id)))
    return render_template(
        "audiences/index.html", audiences=audiences, counts=svc.counts(audiences)
    )


@bp.route("/new", methods=["GET", "POST"])
@allow(*AUDIENCE_ROLES)
def new():
    form = AudienceForm()
    if form.validate_on_submit():
        return _save(None, form)
    status = 400 if form.is_submitted() else 200
    return render_template("audiences/form.html", form=form, audience=None, count=None), status


@bp.route("/<int:audience_id>", methods=["GET", "POST"])
@allow(*AUDIENCE_ROLES)
def edit(audience_id: int):
    audience = _get_audience_or_404(audience_id)
    form = AudienceForm(obj=audience)
    if not form.is_submitted():
        form.fill(audience.filters)
    if form.validate_on_submit():
        return _save(audience, form)
    status = 400 if form.is_submitted() else 200
    return _edit_page(audience, form, DeleteForm(formdata=None, prefix="delete")), status


def _save(audience: Audience | None, form: AudienceForm):
    audience = svc.save_audience(
        audience,
        name=form.name.data,
        filters=form.filters(),
        notes=form.notes.data or None,
        by=current_user,
    )
    db.session.commit()
    flash(_("The audience %(name)s has been saved.", name=audience.name), "success")
    return redirect(url_for("audiences.edit", audience_id=audience.id))


def _edit_page(audience: Audience, form: AudienceForm, delete_form: DeleteForm) -> str:
    count = svc.count_members(audience.filters)
    return render_template(
        "audiences/form.html", form=form, delete_form=delete_form, audience=audience, count=count
    )


@bp.route("/<int:audience_id>/delete", methods=["POST"])
@allow(*AUDIENCE_ROLES)
def delete(audience_id: int):
    audience = _get_audience_or_404(audience_id)
    delete_form = DeleteForm(prefix="delete")
    if not delete_form.validate_on_submit():
        form = AudienceForm(obj=audience, formdata=None)
        form.fill(audience.filters)
        return _edit_page(audience, form, delete_form), 400
    name = audience.name
    svc.delete_audience(audience, current_user)
    db.session.commit()
    flash(_("The audience %(name)s has been deleted.", name=name), "success")
    return redirect(url_for("audiences.index"))


@bp.route("/<int:audience_id>/export.csv")
@allow(*AUDIENCE_ROLES)
def export(audience_id: int):
    """The members as the newsletter tool imports them, read from the consents now."""
    audience = _get_audience_or_404(audience_id)
    content, _rows = svc.export_audience(audience, current_user)
    db.session.commit()
    name = f"lotsen-audience-{audience.id}-{clock.today().isoformat()}.csv"
    return Response(
        content,
        mimetype="text/csv",
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


# -- the public unsubscribe page ---------------------------------------------------------------

ONE_CLICK = "One-Click"  # RFC 8058: the body a mail client POSTs for List-Unsubscribe


def _language(household) -> str:
    """?lang= first, then the person's own language, then the browser's."""
    supported = current_app.config["PUBLIC_LANGUAGES"]
    if request.args.get("lang") in supported:
        return request.args["lang"]
    if household is not None and household.language in supported:
        return household.language
    return request.accept_languages.best_match(supported) or supported[0]


@public_bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
@csrf.exempt  # the one-click POST carries no token; the page's own form is checked below
def unsubscribe(token: str):
    """GET shows a button (link scanners only GET); POST withdraws the newsletter consent.
    A mail client's one-click POST (``List-Unsubscribe=One-Click``) needs no CSRF token:
    the signed link is the proof; any other POST must carry the page's token."""
    one_click = request.method == "POST" and request.form.get("List-Unsubscribe") == ONE_CLICK
    if request.method == "POST" and not one_click and current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()
    household = svc.household_for(token)
    with force_locale(_language(household)):
        if household is None:
            return render_template("audiences/unsubscribe.html", state="invalid"), 404
        if request.method == "POST":
            withdrawn = svc.unsubscribe(household, clock.now())
            db.session.commit()
            state = "done" if withdrawn else "already"
        else:
            state = "ask" if svc.active_newsletter_consents(household) else "already"
        return render_template("audiences/unsubscribe.html", state=state)
