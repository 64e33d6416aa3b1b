"""The dashboard's and the funder report's figures: a fixed handful of SQL aggregate
queries, whatever the number of households, over the households' milestone rows (first
arrival at each stage, kept with the stage history: lotsen.households.milestones) and,
for a past day's stages, the history itself."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, literal, null, select, union_all
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import True_

from lotsen import clock
from lotsen.access import household_scope, ids_in_municipalities
from lotsen.accounts.models import Role, User
from lotsen.extensions import db
from lotsen.followups.models import FollowUp, FollowUpStatus
from lotsen.households.milestones import HouseholdMilestone as M
from lotsen.households.milestones import reached_at
from lotsen.households.models import Household, Person, household_municipality
from lotsen.households.vocab import PersonKind, Stage
from lotsen.pipeline.history import (
    ACTIVE,
    LADDER,
    day_start,
    days_between,
    is_today_or_later,
    period_bounds,
    stage_on,
)
from lotsen.workdays import local_date

MAX_BUCKETS = 36
hm = household_municipality


@dataclass(frozen=True)
class Scope:
    """Whose figures, over which period, narrowed by municipality and source."""

    user: User
    since: date
    until: date
    municipality: str | None = None
    source: str | None = None

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return period_bounds(self.since, self.until)

    def conditions(self) -> list[ColumnElement[bool]]:
        """Conditions on Household; empty when every household counts, so that a figure
        that needs nothing else of the household can leave it out of its query."""
        visible = household_scope(self.user)
        conds = [] if isinstance(visible, True_) else [visible]
        if self.municipality:
            conds.append(Household.id.in_(ids_in_municipalities([self.municipality])))
        if self.source:
            conds.append(Household.source == self.source)
        return conds

    def narrow(self, query):
        """``query`` over milestone rows limited to this scope: the source and municipality
        from the row and its id, the households only read for a guide's visibility."""
        if self.source:
            query = query.where(M.source == self.source)
        if self.municipality:
            query = query.where(M.household_id.in_(ids_in_municipalities([self.municipality])))
        visible = household_scope(self.user)
        if not isinstance(visible, True_):
            query = query.join(Household, Household.id == M.household_id).where(visible)
        return query

    def row_codes(self) -> list[str] | None:
        """The municipalities that get a row (None: all)."""
        if self.municipality:
            return [self.municipality]
        if self.user.role == Role.GUIDE:
            return sorted(self.user.municipality_codes)
        return None


@dataclass
class Bucket:
    label: str
    since: date
    until: date  # included


def months(since: date, until: date) -> list[Bucket]:
    out, day = [], since.replace(day=1)
    while day <= until and len(out) < MAX_BUCKETS:
        nxt = (day + timedelta(days=32)).replace(day=1)
        out.append(Bucket(day.strftime("%Y-%m"), max(day, since), min(nxt - timedelta(1), until)))
        day = nxt
    return out


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return start, end - timedelta(days=1)


def quarters(since: date, until: date) -> list[Bucket]:
    out = []
    year, q = quarter_of(since)
    while len(out) < MAX_BUCKETS:
        start, end = quarter_bounds(year, q)
        if start > until:
            break
        out.append(Bucket(f"{year} Q{q}", max(start, since), min(end, until)))
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
    return out


def _bucket_case(column, buckets: list[Bucket]) -> ColumnElement[int]:
    return case(
        *(
            (and_(column >= day_start(b.since), column < day_start(b.until + timedelta(1))), i)
            for i, b in enumerate(buckets)
        ),
        else_=literal(-1),
    )


def _by_municipality(cte, columns, scope: Scope):
    """``columns`` of ``cte`` per municipality (a household in each of its municipalities)
    and once for the region (code None), in one statement."""
    per = (
        select(hm.c.municipality_code.label("code"), *columns)
        .select_from(cte)
        .join(hm, hm.c.household_id == cte.c.hid)
    )
    codes = scope.row_codes()
    if codes is not None:
        per = per.where(hm.c.municipality_code.in_(codes))
    per = per.group_by(hm.c.municipality_code)
    region = select(null().label("code"), *columns).select_from(cte)
    return union_all(per, region)


# --- stages now (or on the period's last day) per municipality ---------------------------


def stage_table(scope: Scope) -> dict[str | None, dict[str, int]]:
    """{code or None (region): {stage: households}} at the end of the period."""
    if is_today_or_later(scope.until) and not scope.conditions():
        statement = _stages_now(scope)
    elif is_today_or_later(scope.until):  # a narrowed scope, tested once per household
        query = select(Household.id.label("hid"), Household.stage.label("stage"))
        statement = _stages_per_household(scope, query.where(*scope.conditions()))
    else:
        statement = _stages_on(scope, day_start(scope.until + timedelta(days=1)))
    table: dict[str | None, dict[str, int]] = {}
    for code, st, n in db.session.execute(statement):
        row = table.setdefault(code, {})
        key = str(Stage(st).value)
        row[key] = row.get(key, 0) + n
    return table


def _stages_now(scope: Scope):
    """The current stages of every household: per primary municipality and for the region
    straight from the household indexes, plus the other municipalities a household is interested in
    (household_municipality holds the primary one too, so it is left out there)."""
    conds = scope.conditions()
    codes = scope.row_codes()
    count = func.count().label("n")
    primary = select(Household.primary_municipality_code.label("code"), Household.stage, count)
    others = (
        select(hm.c.municipality_code.label("code"), Household.stage, count)
        .select_from(Household)
        .join(
            hm,
            and_(
                hm.c.household_id == Household.id,
                hm.c.municipality_code != Household.primary_municipality_code,
            ),
        )
        .group_by(hm.c.municipality_code, Household.stage)
    )
    if codes is not None:
        primary = primary.where(Household.primary_municipality_code.in_(codes))
        others = others.where(hm.c.municipality_code.in_(codes))
    primary = primary.where(*conds).group_by(Household.primary_municipality_code, Household.stage)
    region = select(null().label("code"), Household.stage, count).where(*conds)
    return union_all(primary, others.where(*conds), region.group_by(Household.stage))


def _stages_on(scope: Scope, moment: datetime):
    """The stages just before ``moment`` as the history says; a household without history
    (so without a milestone row) had no stage then."""
    stage = stage_on(moment, milestones=True).label("stage")
    return _stages_per_household(scope, scope.narrow(select(M.household_id.label("hid"), stage)))


def _stages_per_household(scope: Scope, query):
    """Per municipality and for the region, the households of ``query`` (hid, stage)."""
    cte = query.cte("at_stage").prefix_with("MATERIALIZED")
    cols = [cte.c.stage, func.count().label("n")]
    per = (
        select(hm.c.municipality_code.label("code"), *cols)
        .select_from(cte)
        .join(hm, hm.c.household_id == cte.c.hid)
        .where(cte.c.stage.is_not(None))
    )
    if (codes := scope.row_codes()) is not None:
        per = per.where(hm.c.municipality_code.in_(codes))
    per = per.group_by(hm.c.municipality_code, cte.c.stage)
    region = (
        select(null().label("code"), *cols)
        .select_from(cte)
        .where(cte.c.stage.is_not(None))
        .group_by(cte.c.stage)
    )
    return union_all(per, region)


# --- the funnel of the period's new interests ------------------------------------------


def _cohort_ranks(scope: Scope):
    """Per household whose interest was registered in the period: whether it had reached
    (at least) each stage of the ladder by the period's end, r1 (Contacted) to r5."""
    start, end = scope.bounds
    reached = [
        case((reached_at(stage) < end, 1), else_=0).label(f"r{i}")
        for i, stage in enumerate(LADDER)
        if i
    ]
    query = select(M.household_id.label("hid"), M.source.label("source"), *reached)
    return (
        scope.narrow(query.where(M.interest_at >= start, M.interest_at < end))
        .cte("ranks")
        .prefix_with("MATERIALIZED")  # used twice: computed once
    )


def funnel_and_sources(scope: Scope) -> tuple[dict[str | None, list[int]], list]:
    """The funnel, {code or None: [households that reached at least New, Contacted, ...,
    Moved in]}, and the sources, [(source, new interests, of those moved in)], most first:
    one statement grouped by municipality and source."""
    ranks = _cohort_ranks(scope)
    columns = [func.count().label("r0")]  # New: every member of the cohort, closed or not
    columns += [
        func.coalesce(func.sum(ranks.c[f"r{i}"]), 0).label(f"r{i}") for i in range(1, len(LADDER))
    ]
    per = (
        select(hm.c.municipality_code.label("code"), ranks.c.source, *columns)
        .select_from(ranks)
        .join(hm, hm.c.household_id == ranks.c.hid)
    )
    if (codes := scope.row_codes()) is not None:
        per = per.where(hm.c.municipality_code.in_(codes))
    per = per.group_by(hm.c.municipality_code, ranks.c.source)
    region = select(null().label("code"), ranks.c.source, *columns).group_by(ranks.c.source)
    funnel: dict[str | None, list[int]] = {}
    by_source = []
    for code, source, *counts in db.session.execute(union_all(per, region)):
        total = funnel.setdefault(code, [0] * len(LADDER))
        for i, n in enumerate(counts):
            total[i] += int(n)
        if code is None:
            by_source.append((source.value if source else None, int(counts[0]), int(counts[-1])))
    by_source.sort(key=lambda r: (-r[1], r[0] or ""))
    return funnel, by_source


# --- new interests per month ------------------------------------------------------------


def new_per_month(scope: Scope) -> list[tuple[Bucket, int]]:
    buckets = months(scope.since, scope.until)
    start, end = scope.bounds
    bucket = _bucket_case(M.interest_at, buckets).label("b")
    query = select(bucket, func.count()).where(M.interest_at >= start, M.interest_at < end)
    rows = dict(db.session.execute(scope.narrow(query).group_by(bucket)).all())
    return [(b, rows.get(i, 0)) for i, b in enumerate(buckets)]


# --- moved in: households and persons ----------------------------------------------------


@dataclass
class MovedIn:
    households: int = 0
    adults: int = 0
    children: int = 0

    @property
    def persons(self) -> int:
        return self.adults + self.children


def _moved_in_cte(scope: Scope, buckets: list[Bucket] | None = None):
    """The households that first reached Moved in during the period, with their members
    counted and (given ``buckets``) the bucket of their arrival."""
    start, end = scope.bounds
    cols = [
        M.household_id.label("hid"),
        M.moved_in_at.label("first_at"),
        M.contacted_at.label("contacted_at"),
        M.source.label("source"),
        func.coalesce(func.sum(case((Person.kind == PersonKind.ADULT, 1), else_=0)), 0).label(
            "adults"
        ),
        func.coalesce(func.sum(case((Person.kind == PersonKind.CHILD, 1), else_=0)), 0).label(
            "children"
        ),
    ]
    if buckets is not None:
        cols.append(_bucket_case(M.moved_in_at, buckets).label("b"))
    query = (
        select(*cols)
        .select_from(M)
        .outerjoin(Person, Person.household_id == M.household_id)
        .where(M.moved_in_at >= start, M.moved_in_at < end)
    )
    return (
        scope.narrow(query)
        .group_by(M.household_id, M.moved_in_at, M.contacted_at, M.source)
        .cte("moved")
        .prefix_with("MATERIALIZED")
    )


def _sums(cte):
    return [
        func.count().label("households"),
        func.coalesce(func.sum(cte.c.adults), 0).label("adults"),
        func.coalesce(func.sum(cte.c.children), 0).label("children"),
    ]


def moved_per_quarter(scope: Scope) -> list[tuple[Bucket, MovedIn]]:
    buckets = quarters(scope.since, scope.until)
    cte = _moved_in_cte(scope, buckets)
    rows = {
        b: MovedIn(int(h), int(a), int(c))
        for b, h, a, c in db.session.execute(select(cte.c.b, *_sums(cte)).group_by(cte.c.b))
    }
    return [(b, rows.get(i, MovedIn())) for i, b in enumerate(buckets)]


def moved_by_municipality(scope: Scope) -> dict[str | None, MovedIn]:
    cte = _moved_in_cte(scope)
    return {
        code: MovedIn(int(h), int(a), int(c))
        for code, h, a, c in db.session.execute(_by_municipality(cte, _sums(cte), scope))
    }


def moved_by_source(scope: Scope) -> list[tuple[str | None, MovedIn]]:
    cte = _moved_in_cte(scope)
    rows = db.session.execute(select(cte.c.source, *_sums(cte)).group_by(cte.c.source)).all()
    return sorted(
        ((s.value if s else None, MovedIn(int(h), int(a), int(c))) for s, h, a, c in rows),
        key=lambda r: (-r[1].households, r[0] or ""),
    )


def median_days_to_move(scope: Scope) -> float | None:
    """Median days from first contact (first reaching Contacted) to first moving in, over
    the households that moved in during the period."""
    moved = _moved_in_cte(scope)
    days = days_between(moved.c.first_at, moved.c.contacted_at).label("d")
    ordered = (
        select(
            days,
            func.row_number().over(order_by=days).label("rn"),
            func.count().over().label("n"),
        )
        .select_from(moved)
        .where(moved.c.contacted_at.is_not(None))
        .subquery("ordered")
    )
    # the middle row, or the mean of the two middle rows
    value = db.session.scalar(
        select(func.avg(ordered.c.d)).where(
            ordered.c.rn.in_([(ordered.c.n + 1) // 2, (ordered.c.n + 2) // 2])
        )
    )
    return None if value is None else round(float(value), 1)


# --- guides' workload --------------------------------------------------------------------


@dataclass
class Workload:
    guide_id: int
    name: str
    active: int = 0
    overdue: int = 0
    last_contact: datetime | None = None  # the oldest last contact of an active household
    days_since: int | None = None


def workload(scope: Scope, now: datetime | None = None) -> list[Workload]:
    now = now or clock.now()
    today = local_date(now)
    since_contact = func.min(func.coalesce(Household.last_contact_at, Household.created_at))
    rows: dict[int, Workload] = {}
    active = db.session.execute(
        select(User.id, User.name, func.count(), since_contact)
        .select_from(Household)
        .join(User, User.id == Household.guide_id)
        .where(Household.stage.in_([s.value for s in ACTIVE]), *scope.conditions())
        .group_by(User.id, User.name)
    )
    for uid, name, n, oldest in active:
        oldest = oldest if oldest is None or oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
        days = (today - local_date(oldest)).days if oldest else None
        rows[uid] = Workload(uid, name, active=n, last_contact=oldest, days_since=days)
    overdue = (
        select(User.id, User.name, func.count())
        .select_from(FollowUp)
        .join(User, User.id == FollowUp.assignee_id)
        .where(FollowUp.status == FollowUpStatus.OPEN, FollowUp.due_on < today)
    )
    if conds := scope.conditions():
        overdue = overdue.join(Household, Household.id == FollowUp.household_id).where(*conds)
    overdue = db.session.execute(overdue.group_by(User.id, User.name))
    for uid, name, n in overdue:
        rows.setdefault(uid, Workload(uid, name)).overdue = n
    return sorted(rows.values(), key=lambda w: w.name)


@dataclass
class Dashboard:
    scope: Scope
    stages: dict = field(default_factory=dict)
    funnel: dict = field(default_factory=dict)
    new_per_month: list = field(default_factory=list)
    moved_per_quarter: list = field(default_factory=list)
    median_days: float | None = None
    sources: list = field(default_factory=list)
    workload: list = field(default_factory=list)


def dashboard(scope: Scope, now: datetime | None = None) -> Dashboard:
    funnel_rows, source_rows = funnel_and_sources(scope)
    return Dashboard(
        scope=scope,
        stages=stage_table(scope),
        funnel=funnel_rows,
        new_per_month=new_per_month(scope),
        moved_per_quarter=moved_per_quarter(scope),
        median_days=median_days_to_move(scope),
        sources=source_rows,
        workload=workload(scope, now),
    )


@dataclass
class FunderReport:
    scope: Scope
    year: int
    quarter: int
    by_municipality: dict
    by_source: list
    median_days: float | None


def funder_report(user: User, year: int, quarter: int, municipality=None, source=None):
    since, until = quarter_bounds(year, quarter)
    scope = Scope(user, since, until, municipality, source)
    return FunderReport(
        scope=scope,
        year=year,
        quarter=quarter,
        by_municipality=moved_by_municipality(scope),
        by_source=moved_by_source(scope),
        median_days=median_days_to_move(scope),
    )
