"""Outcomes per event: the leads an event brought, its sign-ups and attendance, and how far
the households linked to it came afterwards.

Every figure is an SQL aggregate grouped by event: one query per family of figures (sign-ups,
leads, stages), for one event or for every event of a period alike, whatever the number of
households. The household list's ``?event=&event_outcome=`` filter selects from the same row
sets (``outcome_rows``), so the list behind a number holds exactly the households it counts.

- *Leads*: households the event brought: it is their first event, or they were captured at
  its stand.
- *Linked*: the leads and the households signed up (not cancelled).
- *Reached a stage*: of the linked households, those that first reached the stage (or a
  later one: lotsen.households.milestones) at or after the event's start; *moved in* is
  the project's headline result, with the persons of those households.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, case, func, select, text, union
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import True_

from lotsen.access import aggregate_scope
from lotsen.accounts.models import User
from lotsen.events.models import Event, EventSignup, LeadCapture, held_in
from lotsen.events.vocab import SignupStatus
from lotsen.extensions import db
from lotsen.households.milestones import HouseholdMilestone as M
from lotsen.households.milestones import reached_at
from lotsen.households.models import Household, Person
from lotsen.households.vocab import PersonKind, Stage
from lotsen.pipeline.history import period_bounds

LATER_STAGES = (Stage.PLANNING, Stage.VISIT, Stage.DECIDED, Stage.MOVED_IN)
STATUSES = (SignupStatus.WAITLISTED, SignupStatus.ATTENDED, SignupStatus.NO_SHOW)
# The household list's ``event_outcome`` values: which households of an event.
OUTCOMES = (
    "linked",
    "lead",
    "signed_up",
    *(s.value for s in STATUSES),
    *(f"stage:{s.value}" for s in LATER_STAGES),
)


# --- the row sets: (event_id, hid) ----------------------------------------------------------


def _lead_parts(events) -> tuple[Select, Select]:
    first = select(Household.first_event_id.label("event_id"), Household.id.label("hid")).where(
        Household.first_event_id.in_(events)
    )
    captured = select(LeadCapture.event_id, LeadCapture.household_id).where(
        LeadCapture.event_id.in_(events), LeadCapture.household_id.is_not(None)
    )
    return first, captured


def lead_rows(events) -> Select:
    """(event_id, hid) of the households ``events`` brought, each pair once."""
    return union(*_lead_parts(events))


def signup_rows(events, status: str | None = None) -> Select:
    """(event_id, hid) of the sign-ups of ``events`` (not cancelled; or of ``status``)."""
    query = select(EventSignup.event_id, EventSignup.household_id.label("hid")).where(
        EventSignup.event_id.in_(events)
    )
    if status is None:
        return query.where(EventSignup.status != SignupStatus.CANCELLED)
    return query.where(EventSignup.status == status)


def linked_rows(events) -> Select:
    """(event_id, hid) of the leads and the signed-up households of ``events``, once each."""
    return union(*_lead_parts(events), signup_rows(events))  # one flat UNION: SQLite


def _reached(stage: Stage) -> ColumnElement[bool]:
    """The household (its milestone row) first reached ``stage`` once the event began."""
    return reached_at(stage) >= Event.starts_at


def outcome_rows(event_id: int, outcome: str | None) -> Select:
    """The ids of the households behind one figure of one event (None: the linked ones)."""
    events = [event_id]
    if outcome == "lead":
        rows = lead_rows(events).subquery()
    elif outcome == "signed_up":
        rows = signup_rows(events).subquery()
    elif outcome in {s.value for s in STATUSES}:
        rows = signup_rows(events, outcome).subquery()
    else:
        rows = linked_rows(events).subquery()
        if outcome and outcome.startswith("stage:"):
            return (
                select(rows.c.hid)
                .join(Event, Event.id == rows.c.event_id)
                .join(M, M.household_id == rows.c.hid)
                .where(_reached(Stage(outcome.removeprefix("stage:"))))
            )
    return select(rows.c.hid)


def event_condition(event_id: int, outcome: str | None) -> ColumnElement[bool]:
    """For the household list: the household is behind that figure of that event."""
    return Household.id.in_(outcome_rows(event_id, outcome))


# --- the figures --------------------------------------------------------------------------


@dataclass
class Outcome:
    event_id: int
    cost_sek: int | None = None
    leads: int = 0
    signed_up: int = 0
    waitlisted: int = 0
    attended: int = 0
    no_show: int = 0
    linked: int = 0
    reached: dict[str, int] = field(default_factory=dict)
    adults: int = 0
    children: int = 0

    @property
    def moved_in(self) -> int:
        return self.reached.get(Stage.MOVED_IN.value, 0)

    @property
    def persons(self) -> int:
        return self.adults + self.children

    @property
    def cost_per_lead(self) -> float | None:
        return _per(self.cost_sek, self.leads)

    @property
    def cost_per_move(self) -> float | None:
        return _per(self.cost_sek, self.moved_in)


def _per(cost: int | None, n: int) -> float | None:
    return None if cost is None or not n else cost / n


def _scoped(query: Select, hid, user: User, few: bool) -> Select:
    """``query`` counting only the households ``user``'s figures count: for one event the
    few households are looked up one by one, for many events the scope's ids are gathered
    once and the households themselves are not read."""
    condition = aggregate_scope(user, hid, few)
    if isinstance(condition, True_):
        return query  # every household counts
    if few:
        query = query.join(Household, Household.id == hid)
    return query.where(condition)


def outcomes(
    user: User, events, costs: dict[int, int | None], few: bool = False
) -> dict[int, Outcome]:
    """{event id: Outcome} for ``events`` (ids, or a select of ids): three grouped queries.
    ``few``: the events have few households (one event), tested one by one for a guide."""
    result = {event_id: Outcome(event_id, cost) for event_id, cost in costs.items()}

    def row(event_id: int) -> Outcome:
        return result.setdefault(event_id, Outcome(event_id))

    s = EventSignup
    rows = select(s.event_id, s.status, s.household_id.label("hid")).where(s.event_id.in_(events))
    if few or isinstance(aggregate_scope(user), True_):
        rows = rows.subquery("signups")
    else:  # fenced: else SQLite tests every pair of an event and a household the user sees
        rows = rows.cte("signups").prefix_with("MATERIALIZED")
    signups = select(rows.c.event_id, rows.c.status, func.count()).select_from(rows)
    signups = _scoped(signups, rows.c.hid, user, few).group_by(rows.c.event_id, rows.c.status)
    for event_id, status, n in db.session.execute(signups):
        out, status = row(event_id), SignupStatus(status)
        if status != SignupStatus.CANCELLED:
            out.signed_up += n
        if status in STATUSES:
            setattr(out, status.value, n)

    leads = lead_rows(events).subquery("leads")
    query = select(leads.c.event_id, func.count()).select_from(leads)
    for event_id, n in db.session.execute(
        _scoped(query, leads.c.hid, user, few).group_by(leads.c.event_id)
    ):
        row(event_id).leads = n

    linked = linked_rows(events).subquery("linked")
    moved = _reached(Stage.MOVED_IN)

    def members(kind: PersonKind):
        count = select(func.count()).where(Person.household_id == linked.c.hid, Person.kind == kind)
        # counted only for the households that moved in (CASE is evaluated lazily)
        return func.coalesce(func.sum(case((moved, count.scalar_subquery()), else_=0)), 0)

    columns = [func.count()]
    columns += [func.coalesce(func.sum(case((_reached(s), 1), else_=0)), 0) for s in LATER_STAGES]
    columns += [members(PersonKind.ADULT), members(PersonKind.CHILD)]
    query = (
        select(linked.c.event_id, *columns)
        .select_from(linked)
        .join(Event, Event.id == linked.c.event_id)
        .outerjoin(M, M.household_id == linked.c.hid)
    )
    for event_id, n, *counts in db.session.execute(
        _scoped(query, linked.c.hid, user, few).group_by(linked.c.event_id)
    ):
        out = row(event_id)
        out.linked = n
        out.reached = {s.value: int(c) for s, c in zip(LATER_STAGES, counts, strict=False)}
        out.adults, out.children = int(counts[-2]), int(counts[-1])
    return result


def event_outcome(user: User, event: Event) -> Outcome:
    return outcomes(user, [event.id], {event.id: event.cost_sek}, few=True)[event.id]


@dataclass
class Period:
    since: date
    until: date
    kind: str | None = None
    municipality: str | None = None

    def events(self) -> Select:
        """The events that began in the period, of the kind and municipality asked for."""
        start, end = period_bounds(self.since, self.until)
        query = select(Event.id).where(Event.starts_at >= start, Event.starts_at < end)
        if self.kind:
            query = query.where(Event.kind == self.kind)
        if self.municipality:
            query = query.where(held_in(self.municipality))
        return query


@dataclass
class Overview:
    events: list  # rows: id, name, kind, status, starts_at, cost_sek
    outcomes: dict[int, Outcome]

    def total(self) -> Outcome:
        """The sums over the events (a household at several events counts at each)."""
        total = Outcome(0, None)
        for out in self.outcomes.values():
            if out.cost_sek is not None:
                total.cost_sek = (total.cost_sek or 0) + out.cost_sek
            for name in ("leads", "signed_up", "waitlisted", "attended", "no_show", "linked"):
                setattr(total, name, getattr(total, name) + getattr(out, name))
            total.adults += out.adults
            total.children += out.children
            for stage, n in out.reached.items():
                total.reached[stage] = total.reached.get(stage, 0) + n
        return total


def overview(user: User, period: Period) -> Overview:
    """The events of ``period`` with their outcomes: four queries, however many events."""
    ids = period.events()
    rows = db.session.execute(
        select(Event.id, Event.name, Event.kind, Event.status, Event.starts_at, Event.cost_sek)
        .where(Event.id.in_(ids))
        .order_by(Event.starts_at.desc(), Event.id.desc())
    ).all()
    if not rows:
        return Overview([], {})
    if db.engine.dialect.name == "postgresql":
        # The planner's cost for a year of events passes jit_above_cost, and compiling the
        # query then takes longer than running it (219 → 91 ms at 20 000 households).
        db.session.execute(text("SET LOCAL jit = off"))
    return Overview(rows, outcomes(user, ids, {r.id: r.cost_sek for r in rows}))
