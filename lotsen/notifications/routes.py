from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from lotsen import clock
from lotsen.access import allow
from lotsen.accounts.models import Role
from lotsen.extensions import db
from lotsen.notifications.models import OutboxMessage
from lotsen.notifications.services import outbox_counts, outbox_problems, retry_now

bp = Blueprint("notifications", __name__, url_prefix="/admin/outbox")


@bp.route("")
@allow(Role.ADMIN)
def outbox():
    return render_template("admin/outbox.html", messages=outbox_problems(), counts=outbox_counts())


@bp.route("/<int:message_id>/retry", methods=["POST"])
@allow(Role.ADMIN)
def retry(message_id: int):
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    retry_now(message, clock.now())
    db.session.commit()
    flash(_("The message will be sent again shortly."), "success")
    return redirect(url_for("notifications.outbox"))
