from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lotsen import clock
from lotsen.access import HOUSEHOLD_ROLES, allow
from lotsen.accounts.models import Role
from lotsen.extensions import db
from lotsen.households.models import Household
from lotsen.households.pages import render_household, with_household
from lotsen.privacy import panels  # noqa: F401  (adds the privacy card to the household page)
from lotsen.privacy.consents import (
    ConsentError,
    record_consent,
    set_legal_basis,
    withdraw_consent,
)
from lotsen.privacy.disposal import DisposalError, anonymise_household, hold_disposal, rules
from lotsen.privacy.forms import (
    AnonymiseForm,
    ConsentForm,
    FindForm,
    HoldForm,
    LegalBasisForm,
    WithdrawForm,
)
from lotsen.privacy.models import Consent

bp = Blueprint("privacy", __name__)


def _page(household: Household):
    return redirect(url_for("households.view", household_id=household.id) + "#privacy-h")


@bp.route("/households/<int:household_id>/consents", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
@with_household
def record(household: Household):
    form = ConsentForm(prefix="consent")
    if not form.validate():
        return render_household(household, 400, privacy_consent_form=form)
    try:
        record_consent(
            household,
            purpose=form.purpose.data,
            text_version=form.text_version.data,
            how=form.how.data,
            at=clock.now(),
            by=current_user,
        )
    except ConsentError as exc:
        form.form_errors.append(str(exc))
        return render_household(household, 400, privacy_consent_form=form)
    db.session.commit()
    flash(_("The consent has been recorded."), "success")
    return _page(household)


@bp.route("/households/<int:household_id>/consents/withdraw", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
@with_household
def withdraw(household: Household):
    form = WithdrawForm(prefix="withdraw")
    consent_id = request.form.get("consent_id", "")
    if not (consent_id.isdigit() and len(consent_id) < 10):
        flash(_("Choose the consent to withdraw."), "error")
        return render_household(household, 400)
    consent = db.session.scalar(
        select(Consent).where(Consent.id == int(consent_id), Consent.household_id == household.id)
    )
    if consent is None:
        abort(404)  # not this household's: nothing about it leaks
    if not form.validate():
        return render_household(household, 400, privacy_withdraw_form=form)
    try:
        withdraw_consent(consent, how=form.how.data, at=clock.now(), by=current_user)
    except ConsentError as exc:
        flash(str(exc), "error")
        return _page(household)
    db.session.commit()
    flash(_("The consent has been withdrawn; it is no longer used."), "success")
    return _page(household)


@bp.route("/households/<int:household_id>/legal-basis", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
@with_household
def legal_basis(household: Household):
    form = LegalBasisForm()
    if not form.validate():
        return render_household(household, 400, privacy_basis_form=form)
    set_legal_basis(household, form.legal_basis.data, current_user)
    db.session.commit()
    flash(_("The legal basis has been saved."), "success")
    return _page(household)


@bp.route("/households/<int:household_id>/disposal-hold", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
@with_household
def hold(household: Household):
    form = HoldForm(prefix="hold")
    if not form.validate():
        return render_household(household, 400, privacy_hold_form=form)
    hold_disposal(
        household, until=form.until.data, reason=form.reason.data, by=current_user, now=clock.now()
    )
    db.session.commit()
    flash(_("The household is kept until %(day)s.", day=form.until.data), "success")
    return _page(household)


@bp.route("/privacy/disposal", methods=["GET"])
@allow(Role.ADMIN)
def disposal():
    """The disposal rules, and the first step of anonymising one household by hand."""
    form = FindForm(request.args)
    if request.args and form.validate():
        return redirect(url_for("privacy.anonymise", household_id=form.household.data))
    status = 400 if request.args else 200
    return render_template("privacy/disposal.html", rules=rules(), form=form), status


def _household_for_admin(household_id: int) -> Household:
    household = db.session.get(Household, household_id)
    if household is None or household.anonymised_at is not None:
        abort(404)
    return household


@bp.route("/privacy/anonymise/<int:household_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def anonymise(household_id: int):
    """An admin anonymises one household by hand: this page is the second confirmation
    (the first is the disposal page), with the household's number typed again."""
    household = _household_for_admin(household_id)
    form = AnonymiseForm()
    if form.validate_on_submit():
        if form.confirm_id.data != household.id:
            form.confirm_id.errors.append(_("The number does not match this household."))
        else:
            try:
                anonymise_household(household, now=clock.now(), by=current_user, rule="manual")
            except DisposalError as exc:
                abort(409, str(exc))
            db.session.commit()
            flash(_("Household %(id)d has been anonymised.", id=household_id), "success")
            return redirect(url_for("privacy.disposal"))
    status = 400 if form.is_submitted() else 200
    return render_template("privacy/anonymise.html", household=household, form=form), status
