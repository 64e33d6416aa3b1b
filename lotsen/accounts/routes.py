from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from lotsen.access import PUBLIC, STAFF, allow, may_open
from lotsen.accounts import two_factor as tf
from lotsen.accounts.forms import CodeForm, LoginForm, PasswordForm, SettingsForm
from lotsen.accounts.models import Role
from lotsen.accounts.services import (
    authenticate,
    change_password,
    check_current_password,
    end_all_sessions,
)
from lotsen.accounts.sessions import end_session, start_session
from lotsen.db import end_read
from lotsen.extensions import db
from lotsen.urls import next_url

bp = Blueprint("accounts", __name__)


# A communicator has no day of follow-ups: the events, else the audiences.
HOME_PAGES = (
    "followups.my_day_page",
    "admin.users",
    "events.index",
    "audiences.index",
    "accounts.settings",
)
# Every role that logs in: their own account, settings and second factor.
ACCOUNT_ROLES = (*STAFF, Role.COMMUNICATOR)


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
            session["mfa"] = not tf.required_for(result.user)
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
@allow(*ACCOUNT_ROLES)
def logout():
    end_all_sessions(current_user)
    db.session.commit()
    end_session()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/settings", methods=["GET", "POST"])
@allow(*ACCOUNT_ROLES)
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
@allow(*ACCOUNT_ROLES)
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
            verified = session.get("mfa")
            start_session(user)  # this session goes on; others end
            session["mfa"] = verified
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


# -- two-factor login ------------------------------------------------------------------------

SECOND_STEP = ("accounts.second_factor", "accounts.two_factor", "accounts.logout")


@bp.before_app_request
def enforce_second_factor():
    """A user who must give a second factor sees only the code (or enrolment) page until
    they have; public pages stay open."""
    if request.endpoint is None or request.endpoint == "static" or session.get("mfa"):
        return None
    if not current_user.is_authenticated or request.endpoint in SECOND_STEP:
        return None
    view = current_app.view_functions.get(request.endpoint)
    if PUBLIC in getattr(view, "access", ()):
        return None
    if not tf.required_for(current_user):
        return None
    if current_user.totp_enabled_at is None:
        return redirect(url_for("accounts.two_factor"))
    return redirect(url_for("accounts.second_factor"))


@bp.route("/login/code", methods=["GET", "POST"])
@allow(*ACCOUNT_ROLES)
def second_factor():
    user = current_user._get_current_object()
    if session.get("mfa") or user.totp_enabled_at is None:
        return redirect(url_for(home_endpoint(user)))
    form = CodeForm()
    if form.validate_on_submit():
        result = tf.check_code(user, form.code.data, request.remote_addr or "?")
        db.session.commit()  # a failure counts, a success marks the step (or code) used
        if result.ok:
            session["mfa"] = True
            if result.outcome == "recovery_ok":
                flash(
                    _(
                        "You used a recovery code; %(n)d are left.",
                        n=tf.unused_recovery_codes(user),
                    ),
                    "info",
                )
            return redirect(url_for(home_endpoint(user)))
        if result.outcome == "throttled":
            form.form_errors.append(
                _(
                    "Too many failed attempts. Try again in %(minutes)d minutes.",
                    minutes=result.retry_after_minutes,
                )
            )
            return render_template("accounts/code.html", form=form), 429
        if result.outcome == "code_reused":
            form.code.errors.append(_("This code has been used already. Wait for the next one."))
        else:
            form.code.errors.append(_("Wrong code."))
        return render_template("accounts/code.html", form=form), 401
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/code.html", form=form), status


@bp.route("/settings/two-factor", methods=["GET", "POST"])
@allow(*ACCOUNT_ROLES)
def two_factor():
    """Enrolment (QR code, then a code to prove it) and, once enrolled, the status."""
    user = current_user._get_current_object()
    if user.totp_enabled_at is not None:
        return render_template(
            "accounts/two_factor.html", enrolled=True, left=tf.unused_recovery_codes(user)
        )
    if not user.totp_secret:
        end_read(db.session())  # the first view saves the secret (see end_read)
        user.totp_secret = tf.new_secret()  # pending until a code proves the app holds it
        db.session.commit()
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        codes = tf.enrol(user, user.totp_secret, form.code.data, request.remote_addr or "?")
        db.session.commit()
        if codes is not None:
            session["mfa"] = True
            return render_template("accounts/two_factor.html", enrolled=True, codes=codes)
        form.code.errors.append(_("Wrong code. Check the time on your phone and try again."))
        status = 400
    elif form.is_submitted():
        status = 400
    uri = tf.provisioning_uri(user, user.totp_secret)
    return render_template(
        "accounts/two_factor.html",
        enrolled=False,
        form=form,
        qr=tf.qr_svg(uri, _("QR code for your authenticator app")),
        secret=user.totp_secret,
        required=tf.required_for(user),
    ), status
