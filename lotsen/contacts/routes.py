from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lotsen.access import HOUSEHOLD_ROLES, allow
from lotsen.contacts import panels  # noqa: F401  (adds the contact card to the household page)
from lotsen.contacts.forms import ContactForm
from lotsen.contacts.services import log_contact
from lotsen.extensions import db
from lotsen.households.models import Household
from lotsen.households.pages import render_household, with_household

bp = Blueprint("contacts", __name__)


@bp.route("/households/<int:household_id>/contacts", methods=["POST"])
@allow(*HOUSEHOLD_ROLES)
@with_household
def log(household: Household):
    form = ContactForm()
    target = url_for("households.view", household_id=household.id)
    if form.done_before():
        return redirect(target)  # a second click: the contact is logged already
    if not form.validate():
        return render_household(household, 400, contact_form=form)
    log_contact(
        household,
        current_user,
        channel=form.channel.data,
        direction=form.direction.data,
        summary=form.summary.data,
        at=form.at_utc(),
        next_followup_on=form.next_followup_on.data,
    )
    db.session.commit()
    flash(_("The contact has been logged."), "success")
    form.remember_done(target)
    return redirect(target)
