from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lotsen.access import PUBLIC, STAFF, allow, may_open
from lotsen.accounts.forms import LoginForm, PasswordForm, SettingsForm
from lotsen.accounts.services import (
    authenticate,
    change_password,
    check_current_password,
    end_all_sessions,
)
from lotsen.accounts.sessions import end_session, start_session
from lotsen.extensions import db
from lotsen.urls import next_url

bp = Blueprint("accounts", __name__)


HOME_PAGES = ("followups.my_day_page", "admin.users", "accounts.settings")


def home_endpoint(user) -> str:
    """The first of the home pages that ``user`` may open."""
    return next(e for e in HOME_PAGES if may_open(e, user))


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
def login():
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    form = LoginForm()
    if form.validate_on_submit():
        result = authenticate(form.email.data, form.password.data, request.remote_addr or "?")
        if result.user is not None:
            db.session.commit()
            start_session(result.user)
            return redirect(next_url(home_endpoint(result.user)))
        db.session.commit()  # the failed attempt counts
        if result.outcome == "throttled":
            form.form_errors.append(
                _(
                    "Too many failed attempts. Try again in %(minutes)d minutes.",
                    minutes=result.retry_after_minutes,
                )
            )
            return render_template("accounts/login.html", form=form), 429
        form.form_errors.append(_("Wrong e-mail address or password."))
        return render_template("accounts/login.html", form=form), 401
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@allow(*STAFF)
def logout():
    end_all_sessions(current_user)
    db.session.commit()
    end_session()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/settings", methods=["GET", "POST"])
@allow(*STAFF)
def settings():
    form = SettingsForm(obj=current_user)
    password_form = PasswordForm(prefix="pw")
    if form.validate_on_submit():
        current_user.locale = form.locale.data
        current_user.notify_reminders = form.notify_reminders.data
        current_user.notify_digest = form.notify_digest.data
        db.session.commit()
        flash(_("Your settings have been saved."), "success")
        return redirect(url_for("accounts.settings"))
    return render_template("accounts/settings.html", form=form, password_form=password_form)


@bp.route("/settings/password", methods=["POST"])
@allow(*STAFF)
def password():
    form = SettingsForm(obj=current_user, formdata=None)
    password_form = PasswordForm(prefix="pw")
    status = 400
    if password_form.validate_on_submit():
        ip = request.remote_addr or "?"
        user = current_user._get_current_object()
        result = check_current_password(user, password_form.current_password.data, ip)
        if result.outcome == "ok":
            change_password(user, password_form.new_password.data, ip)
            db.session.commit()
            start_session(user)  # this session goes on; others end
            flash(
                _("Your password has been changed. Other sessions have been logged out."), "success"
            )
            return redirect(url_for("accounts.settings"))
        db.session.commit()  # the failed attempt counts
        if result.outcome == "throttled":
            status = 429
            password_form.current_password.errors.append(
                _(
                    "Too many failed attempts. Try again in %(minutes)d minutes.",
                    minutes=result.retry_after_minutes,
                )
            )
        else:
            password_form.current_password.errors.append(_("This is not your current password."))
    return render_template("accounts/settings.html", form=form, password_form=password_form), status


@bp.route("/")
@allow(PUBLIC)
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    return redirect(url_for(home_endpoint(current_user)))
