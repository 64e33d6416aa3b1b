"""The dashboard's and the funder report's figures: a fixed handful of SQL aggregate
queries, whatever the number of households, over the households' milestone rows (first
arrival at each stage, kept with the stage history: lotsen.households.milestones) and,
for a past day's stages, the history itself."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Float, case, cast, func, literal, null, or_, select, union_all
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import True_

from lotsen import clock
from lotsen.access import household_scope, ids_in_municipalities
from lotsen.accounts.models import Role, User
from lotsen.extensions import db
from lotsen.followups.models import FollowUp, FollowUpStatus
from lotsen.households.milestones import HouseholdMilestone as M
from lotsen.households.milestones import household_municipality_milestone as F
from lotsen.households.models import Household, household_municipality
from lotsen.households.vocab import Stage
from lotsen.pipeline.history import (
    ACTIVE,
    LADDER,
    day_start,
    is_today_or_later,
    period_bounds,
    stage_on,
)
from lotsen.workdays import local_date

MAX_BUCKETS = 36
hm = household_municipality
f = F.c  # one row per household and municipality, one of them counted for the region


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

    def rows(self, query):
        """``query`` over ``household_municipality_milestone`` limited to this scope: the
        source and municipality from the row, a guide's visibility as a look-up of the
        household's id. Every municipality of a household stays (its counted row may lie
        outside a guide's municipalities): ``add`` sorts them into table rows."""
        if self.source:
            query = query.where(f.source == self.source)
        if self.municipality:
            query = query.where(f.municipality_code == self.municipality)
        visible = household_scope(self.user)
        if not isinstance(visible, True_):
            query = query.where(f.household_id.in_(_visible_ids(visible)))
        return query

    def keys(self):
        """A function giving the table rows (municipality codes, None for the region) that
        one row of ``household_municipality_milestone`` adds to: its municipality if that
        gets a row, and the region if it is the household's counted row (with a
        municipality chosen, each household has just the one row there)."""
        codes = self.row_codes()
        codes = None if codes is None else set(codes)
        single = bool(self.municipality)
        cache: dict = {}

        def keys(code: str | None, counted: bool) -> tuple[str | None, ...]:
            found = cache.get((code, counted))
            if found is None:
                found = cache[(code, counted)] = (
                    *((code,) if code is not None and (codes is None or code in codes) else ()),
                    *((None,) if counted or single else ()),
                )
            return found

        return keys

    def row_codes(self) -> list[str] | None:
        """The municipalities that get a row (None: all)."""
        if self.municipality:
            return [self.municipality]
        if self.user.role == Role.GUIDE:
            return sorted(self.user.municipality_codes)
        return None


def _visible_ids(visible: ColumnElement[bool]):
    """The ids of the households the scope rule ``visible`` (a condition on Household)
    admits. (Matching against the rule's own id list instead, without the household look-up,
    made PostgreSQL probe the rows per municipality id by id: it guesses 200 ids.)"""
    return select(Household.id).where(visible)


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
    """The index of the bucket ``column`` falls in (-1: none), as a binary search over the
    buckets' boundaries (they follow each other): a handful of comparisons per row."""
    if not buckets:
        return literal(-1)
    starts = [day_start(b.since) for b in buckets]
    end = day_start(buckets[-1].until + timedelta(1))

    def search(lo: int, hi: int):
        if hi - lo == 1:
            return literal(lo)
        mid = (lo + hi) // 2
        return case((column < starts[mid], search(lo, mid)), else_=search(mid, hi))

    outside = or_(column < starts[0], column >= end)
    return case((outside, literal(-1)), else_=search(0, len(buckets)))


# --- stages now (or on the period's last day) per municipality ---------------------------


def stage_table(scope: Scope) -> dict[str | None, dict[str, int]]:
    """{code or None (region): {stage: households}} at the end of the period."""
    table: dict[str | None, dict[str, int]] = {}

    def add(code, stage, n):
        row = table.setdefault(code, {})
        key = str(Stage(stage).value)
        row[key] = row.get(key, 0) + n

    if is_today_or_later(scope.until):
        keys = scope.keys()
        for code, counted, stage, n in db.session.execute(_stages_now(scope)):
            for key in keys(code, counted):
                add(key, stage, n)
    else:
        statement = _stages_on(scope, day_start(scope.until + timedelta(days=1)))
        for code, stage, n in db.session.execute(statement):
            add(code, stage, n)
    return table


def _stages_now(scope: Scope):
    """The current stages per municipality and for the region: one index-only pass over
    the rows per municipality, grouped by municipality, stage and whether counted."""
    count = func.count().label("n")
    query = select(f.municipality_code, f.counted, f.stage, count)
    return scope.rows(query).group_by(f.municipality_code, f.stage, f.counted)


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


@dataclass
class Interests:
    """The period's new interests: the funnel ({code or None: [households that reached at
    least New, Contacted, ..., Moved in by the period's end]}), the sources ([(source, new
    interests, of those moved in)], most first) and the interests per month."""

    funnel: dict[str | None, list[int]]
    sources: list[tuple[str | None, int, int]]
    per_month: list[tuple[Bucket, int]]


def interests(scope: Scope) -> Interests:
    """One index-only range scan of the rows per municipality whose household's interest
    was registered in the period, grouped by municipality, counted, source and month."""
    start, end = scope.bounds
    buckets = months(scope.since, scope.until)
    bucket = _bucket_case(f.interest_at, buckets).label("b")
    reached = [
        func.sum(case((column < end, 1), else_=0))
        for column in (f.contacted_at, f.planning_at, f.visit_at, f.decided_at, f.moved_in_at)
    ]
    query = select(f.municipality_code, f.counted, f.source, bucket, func.count(), *reached)
    query = scope.rows(query.where(f.interest_at >= start, f.interest_at < end))
    query = query.group_by(f.municipality_code, f.counted, f.source, bucket)
    funnel: dict[str | None, list[int]] = {}
    by_source: dict[str | None, list[int]] = {}
    per_bucket: dict[int, int] = {}
    keys = scope.keys()
    for code, counted, source, b, *counts in db.session.execute(query):
        for key in keys(code, counted):
            total = funnel.get(key)
            if total is None:
                total = funnel[key] = [0] * len(LADDER)
            for i, n in enumerate(counts):  # New: every member of the cohort
                total[i] += n or 0
            if key is None:
                pair = by_source.setdefault(source, [0, 0])
                pair[0] += counts[0]
                pair[1] += counts[-1] or 0
                per_bucket[b] = per_bucket.get(b, 0) + counts[0]
    named = ((s.value if s else None, n, moved) for s, (n, moved) in by_source.items())
    sources = sorted(named, key=lambda r: (-r[1], r[0] or ""))
    per_month = [(b, per_bucket.get(i, 0)) for i, b in enumerate(buckets)]
    return Interests(funnel, sources, per_month)


def funnel_and_sources(scope: Scope) -> tuple[dict[str | None, list[int]], list]:
    found = interests(scope)
    return found.funnel, found.sources


def new_per_month(scope: Scope) -> list[tuple[Bucket, int]]:
    return interests(scope).per_month


# --- moved in: households and persons ----------------------------------------------------


@dataclass
class MovedIn:
    households: int = 0
    adults: int = 0
    children: int = 0

    @property
    def persons(self) -> int:
        return self.adults + self.children


def _moved_rows(scope: Scope, columns: list, once: bool = False):
    """``columns`` of the rows per municipality of the households that first reached Moved
    in during the period (``once``: one row per household of the scope)."""
    start, end = scope.bounds
    query = scope.rows(select(*columns).where(f.moved_in_at >= start, f.moved_in_at < end))
    return query.where(f.counted) if once and not scope.municipality else query


def _median_days(scope: Scope) -> ColumnElement:
    """Median days from first contact (first reaching Contacted) to first moving in over the
    period's arrivals, each household once: the middle row, or the mean of the two."""
    days = f.days_to_move
    ordered = _moved_rows(
        scope,
        [
            days.label("d"),
            func.row_number().over(order_by=days).label("rn"),
            func.count().over().label("n"),
        ],
        once=True,
    )
    ordered = ordered.where(days.is_not(None)).subquery("ordered")
    middle = ordered.c.rn.in_([(ordered.c.n + 1) // 2, (ordered.c.n + 2) // 2])
    return select(func.avg(ordered.c.d)).where(middle).scalar_subquery()


def _moved(scope: Scope, by: list, once: bool = False):
    """The period's arrivals (households, adults, children) grouped by ``by`` (columns of
    the rows per municipality), and the median days from first contact to moving in: one
    statement of two index range scans, the median in a row of its own."""
    sums = [
        func.count(),
        func.coalesce(func.sum(f.adults), 0),
        func.coalesce(func.sum(f.children), 0),
    ]
    groups = _moved_rows(scope, [literal(0), *by, *sums, cast(null(), Float)], once)
    groups = groups.group_by(*by)
    median = select(literal(1), *(null() for _ in by), *(null() for _ in sums), _median_days(scope))
    grouped, median_days = [], None
    for is_median, *row in db.session.execute(union_all(groups, median)):
        if is_median:
            median_days = row[-1]
        else:
            grouped.append(row)
    return grouped, None if median_days is None else round(float(median_days), 1)


def moved_per_quarter(scope: Scope) -> list[tuple[Bucket, MovedIn]]:
    return moved_and_median(scope)[0]


def moved_and_median(scope: Scope) -> tuple[list[tuple[Bucket, MovedIn]], float | None]:
    """Households and persons moved in per quarter, and the median days to move."""
    buckets = quarters(scope.since, scope.until)
    bucket = _bucket_case(f.moved_in_at, buckets).label("b")
    grouped, median = _moved(scope, [bucket], once=True)
    rows = {b: MovedIn(int(h), int(a), int(c)) for b, h, a, c, _ in grouped}
    return [(b, rows.get(i, MovedIn())) for i, b in enumerate(buckets)], median


def moved_figures(scope: Scope):
    """The funder report's figures: {code or None: MovedIn}, [(source, MovedIn)] most
    first, and the median days from first contact to moving in."""
    grouped, median = _moved(scope, [f.municipality_code, f.counted, f.source])
    by_code: dict[str | None, MovedIn] = {}
    by_source: dict[str | None, MovedIn] = {}
    keys = scope.keys()
    for code, counted, source, h, a, c, _ in grouped:
        for key in keys(code, counted):
            total = by_code.setdefault(key, MovedIn())
            total.households += int(h)
            total.adults += int(a)
            total.children += int(c)
            if key is None:
                total = by_source.setdefault(source.value if source else None, MovedIn())
                total.households += int(h)
                total.adults += int(a)
                total.children += int(c)
    sources = sorted(by_source.items(), key=lambda r: (-r[1].households, r[0] or ""))
    return by_code, sources, median


def moved_by_municipality(scope: Scope) -> dict[str | None, MovedIn]:
    return moved_figures(scope)[0]


def moved_by_source(scope: Scope) -> list[tuple[str | None, MovedIn]]:
    return moved_figures(scope)[1]


def median_days_to_move(scope: Scope) -> float | None:
    """Median days from first contact (first reaching Contacted) to first moving in, over
    the households that moved in during the period."""
    return moved_figures(scope)[2]


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
    visible = household_scope(scope.user)
    if scope.municipality or scope.source:
        conds = scope.conditions()
        overdue = overdue.join(Household, Household.id == FollowUp.household_id).where(*conds)
    elif not isinstance(visible, True_):  # a guide: matched against the scope's ids
        overdue = overdue.where(FollowUp.household_id.in_(_visible_ids(visible)))
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
    found = interests(scope)
    moved, median = moved_and_median(scope)
    return Dashboard(
        scope=scope,
        stages=stage_table(scope),
        funnel=found.funnel,
        new_per_month=found.per_month,
        moved_per_quarter=moved,
        median_days=median,
        sources=found.sources,
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
    by_municipality, by_source, median = moved_figures(scope)
    return FunderReport(
        scope=scope,
        year=year,
        quarter=quarter,
        by_municipality=by_municipality,
        by_source=by_source,
        median_days=median,
    )
