from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lotsen.access import allow
from lotsen.accounts.forms import ROLE_LABELS, UserForm
from lotsen.accounts.models import LoginAttempt, Role, User
from lotsen.accounts.services import AccountError, create_user, update_user
from lotsen.extensions import db
from lotsen.regions.models import all_municipalities

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@allow(Role.ADMIN)
def users():
    rows = db.session.scalars(
        select(User).options(selectinload(User.extra_municipalities)).order_by(User.name)
    )
    return render_template("admin/users.html", users=rows, role_labels=ROLE_LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def new_user():
    form = UserForm(municipalities=all_municipalities(), require_password=True)
    if form.validate_on_submit():
        try:
            user = create_user(
                email=form.email.data,
                name=form.name.data,
                role=Role(form.role.data),
                password=form.password.data,
                municipality_code=form.municipality_code.data,
                extra_municipalities=form.extra_municipalities.data,
                locale=form.locale.data,
                by=current_user,
            )
            user.active = form.active.data
        except AccountError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The account for %(name)s has been created.", name=user.name), "success")
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/user_form.html", form=form, user=None
    ), 400 if form.errors else 200


def _get_user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def edit_user(user_id: int):
    user = _get_user_or_404(user_id)
    form = UserForm(obj=user, municipalities=all_municipalities())
    if not form.is_submitted():
        form.extra_municipalities.data = [m.code for m in user.extra_municipalities]
    if form.validate_on_submit():
        try:
            update_user(
                user,
                email=form.email.data,
                name=form.name.data,
                role=Role(form.role.data),
                municipality_code=form.municipality_code.data,
                extra_municipalities=form.extra_municipalities.data,
                locale=form.locale.data,
                active=form.active.data,
                new_password=form.password.data or None,
                by=current_user,
            )
        except AccountError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The account for %(name)s has been saved.", name=user.name), "success")
            return redirect(url_for("admin.users"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("admin/user_form.html", form=form, user=user), status


@bp.route("/login-attempts")
@allow(Role.ADMIN)
def login_attempts():
    rows = db.session.scalars(select(LoginAttempt).order_by(LoginAttempt.at.desc()).limit(200))
    return render_template("admin/login_attempts.html", attempts=rows)
