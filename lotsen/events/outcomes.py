"""Outcomes per event, and an overview of the events of a period (figures: figures.py).

Guides see counts of the households they may see, coordinators of all, communicators
aggregate counts of all without a link to any household. Each number links to the
household list filtered to exactly the households it counts (the list applies the scope).
"""

from datetime import date

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.sql.elements import True_
from wtforms import DateField
from wtforms.validators import Optional

from lotsen import clock
from lotsen.access import EVENT_ROLES, aggregate_scope, allow, get_event_or_404, may_open
from lotsen.events import bp
from lotsen.events.figures import LATER_STAGES, Period, event_outcome, overview
from lotsen.events.models import Event
from lotsen.events.vocab import LABELS, EventType
from lotsen.events.vocab import label as event_label
from lotsen.extensions import db
from lotsen.forms import GetForm, OptionalSelectField
from lotsen.pipeline.forms import PeriodChecks
from lotsen.regions.models import municipality_refs
from lotsen.urls import MAX_ID
from lotsen.workdays import local_date


class OutcomesFilterForm(PeriodChecks, GetForm):
    since = DateField(_l("From"), validators=[Optional()], name="from")
    until = DateField(_l("To"), validators=[Optional()], name="to")
    kind = OptionalSelectField(
        _l("Kind of event"), choices=[("", _l("All kinds")), *((k, LABELS[k]) for k in EventType)]
    )
    municipality = OptionalSelectField(_l("Municipality"), choices=[])

    def __init__(self, *args, municipalities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.municipality.choices = [
            ("", _l("All municipalities")),
            *((m.code, m.name) for m in municipalities),
        ]

    def period(self, now) -> tuple[date, date]:
        """The chosen period; by default this calendar year."""
        today = local_date(now)
        since = self.since.data or (self.until.data or today).replace(month=1, day=1)
        until = self.until.data or since.replace(month=12, day=31)
        return since, until


def _whole_region() -> bool:
    """Whether the user's figures count every household (then a cost per lead means
    something: the cost is the whole event's)."""
    return isinstance(aggregate_scope(current_user), True_)


def _context() -> dict:
    return {
        "stages": LATER_STAGES,
        "links": may_open("households.index"),  # communicators see numbers only
        "whole_region": _whole_region(),
        "event_label": event_label,
    }


@bp.route("/<int:event_id>/outcomes")
@allow(*EVENT_ROLES)
def event_outcomes(event_id: int):
    event = get_event_or_404(event_id, manage=False)
    out = event_outcome(current_user, event)
    return render_template("events/outcomes.html", event=event, out=out, **_context())


@bp.route("/outcomes")
@allow(*EVENT_ROLES)
def outcomes_overview():
    municipalities = municipality_refs()
    form = OutcomesFilterForm(request.args, municipalities=municipalities)
    if not form.validate():
        return render_template(
            "events/outcomes_overview.html", form=form, o=None, **_context()
        ), 400
    since, until = form.period(clock.now())
    period = Period(since, until, form.kind.data, form.municipality.data)
    return render_template(
        "events/outcomes_overview.html",
        form=form,
        o=overview(current_user, period),
        since=since,
        until=until,
        **_context(),
    )


@bp.app_template_global("event_name")
def event_name(event_id) -> str | None:
    """The name of an event, for the household list's words about its event filter."""
    if not isinstance(event_id, int) or not 1 <= event_id <= MAX_ID:
        return None
    return db.session.scalar(select(Event.name).where(Event.id == event_id))
