"""The audit log's search page, and the request hook that tells entries their address."""

import json
from datetime import time, timedelta

from flask import Blueprint, Response, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lotsen import clock
from lotsen.access import HOUSEHOLD_ROLES, allow
from lotsen.accounts.models import Role, User
from lotsen.audit import panels  # noqa: F401  (the household page's audit panel)
from lotsen.audit.access import household_record, section_title
from lotsen.audit.forms import AuditFilterForm
from lotsen.audit.models import AuditEntry
from lotsen.audit.services import (
    ACTION_GROUPS,
    ORIGIN,
    AuditQuery,
    record_view,
    search_entries,
)
from lotsen.extensions import db
from lotsen.households.models import Household
from lotsen.households.pages import with_household

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.before_app_request
def remember_origin():
    """The client's address (after the trusted proxies) for the entries of this request."""
    ORIGIN.set(request.remote_addr)


@bp.route("")
@allow(Role.COORDINATOR, Role.ADMIN)
def search():
    """The audit log, searched by person, household, action and period, newest first.

    Admins see household numbers only, and no changed values of household data: they see
    no household's personal data anywhere else either."""
    users = list(db.session.scalars(select(User).order_by(User.name)))
    form = AuditFilterForm(request.args, users=users)
    if not form.validate():
        return render_template("audit/search.html", form=form, entries=None), 400
    query = AuditQuery(
        user_id=form.user.data,
        household_id=form.household.data,
        action=form.action.data,
        start=clock.local_to_utc(form.since.data, time()) if form.since.data else None,
        end=(
            clock.local_to_utc(form.until.data + timedelta(days=1), time())
            if form.until.data
            else None
        ),
    )
    page = form.page.data or 1
    per_page = current_app.config.get("AUDIT_PER_PAGE", 50)
    rows = list(
        db.session.scalars(
            search_entries(query)
            .options(joinedload(AuditEntry.user))
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    names = {}
    if current_user.role == Role.COORDINATOR:
        ids = {e.household_id for e in rows if e.household_id}
        names = dict(
            db.session.execute(
                select(Household.id, Household.name).where(Household.id.in_(ids))
            ).all()
        )
    return render_template(
        "audit/search.html",
        form=form,
        entries=rows[:per_page],
        page=page,
        has_next=len(rows) > per_page,
        household_names=names,
        show_changes=current_user.role == Role.COORDINATOR,
        labels=ACTION_GROUPS,
    )


# -- right of access ---------------------------------------------------------------------------


def _logged_record(household: Household, fmt: str) -> dict:
    """The household's complete record; handing it out is logged."""
    record = household_record(household)
    record_view(
        "household.access_export",
        by=current_user,
        household_id=household.id,
        changes={"format": fmt},
        wait_for_disk=True,
    )
    return record


@bp.route("/households/<int:household_id>/access")
@allow(*HOUSEHOLD_ROLES)
@with_household
def access_document(household: Household):
    """Everything held about the household, as a document that prints well (to PDF)."""
    record = _logged_record(household, "html")
    sections = [
        (name, section_title(name), rows)
        for name, rows in record.items()
        if isinstance(rows, list) and name not in ("municipalities", "tags")
    ]
    return render_template(
        "audit/access.html", household=household, record=record, sections=sections
    )


@bp.route("/households/<int:household_id>/access.json")
@allow(*HOUSEHOLD_ROLES)
@with_household
def access_json(household: Household):
    """The same data as JSON, for a person who wants it machine-readable."""
    record = _logged_record(household, "json")
    body = json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True)
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="household-{household.id}-data.json"'
        },
    )
