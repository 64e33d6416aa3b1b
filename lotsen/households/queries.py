"""The household list: filters, free-text search, sorting and pagination in SQL."""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from sqlalchemy import (
    JSON,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    union,
)

from lotsen import clock
from lotsen.access import (
    household_scope,
    household_visible,
    ids_in_municipalities,
    scope_key,
)
from lotsen.accounts.models import Role, User
from lotsen.db import written_in
from lotsen.extensions import db
from lotsen.followups.models import FollowUp, FollowUpStatus
from lotsen.households.models import (
    Household,
    HouseholdShare,
    Person,
    Tag,
    household_municipality,
    household_tag,
)
from lotsen.households.search import fts_rowids, match_clause, match_condition, match_value
from lotsen.households.vocab import PersonKind
from lotsen.kept import kept
from lotsen.regions.models import Municipality

COUNT_LIMIT = 1000  # past this the list says "more than 1 000": counting on costs time

# A page's LIMIT and OFFSET (``page_limit``, ``page_offset``), written into the statement
# (``written_in``): the coordinator's list rows 1.95 -> 1.38 ms on PostgreSQL at 20 000.
PAGE_LIMIT = written_in("page_limit", type_=Integer)
PAGE_OFFSET = written_in("page_offset", type_=Integer)


def _cap():
    """A count's cap (COUNT_LIMIT + 1), written into the statement (``written_in``)."""
    return written_in("cap", COUNT_LIMIT + 1, Integer)


ORDERS = {  # the list's orders, over ``Household`` or the columns of a subquery of it
    "-created": lambda e: (e.created_at.desc(), e.id.desc()),
    "created": lambda e: (e.created_at.asc(), e.id.asc()),
    "name": lambda e: (e.name.asc(), e.id.asc()),
    "last_contact": lambda e: (e.last_contact_at.asc().nulls_first(), e.id.asc()),
    "-last_contact": lambda e: (e.last_contact_at.desc().nulls_last(), e.id.desc()),
    "move_date": lambda e: (e.move_date.asc().nulls_last(), e.id.asc()),
}


def sort_columns(entity, sort: str) -> tuple:
    sort = sort if sort in ORDERS else "-created"
    return _household_sort(sort) if entity is Household else ORDERS[sort](entity)


@cache
def _household_sort(sort: str) -> tuple:
    # once per process: making the expressions costs as much as building a small query
    return ORDERS[sort](Household)


@dataclass
class Filters:
    q: str | None = None
    stage: str | None = None
    municipality: str | None = None  # a code, or "none" for "not sure yet"
    guide: int | None = None
    source: str | None = None
    tag: str | None = None
    stale_days: int | None = None
    sort: str = "-created"
    # the dashboard's links (lotsen.pipeline.listing): the list behind a figure
    reached: str | None = None
    since: date | None = None
    until: date | None = None
    converted: str | None = None
    stage_on: date | None = None
    active: bool = False
    overdue: int | None = None
    # the event outcomes' links (lotsen.events.figures): the households behind a figure
    event: int | None = None
    event_outcome: str | None = None


@dataclass(slots=True)
class ListRow:
    """One line of the household list, as plain values: no ORM object, no lazy load."""

    id: int
    name: str
    country: str | None
    stage: str
    municipality_name: str | None
    guide_name: str | None
    last_contact_at: object
    next_due_on: object
    adults: int
    children: int
    tags: list[str]


@dataclass
class Page:
    items: list[ListRow]
    total: int | None  # None: more than COUNT_LIMIT
    page: int
    per_page: int
    has_next: bool
    count_limit: int

    @property
    def pages(self) -> int | None:
        return None if self.total is None else max(1, -(-self.total // self.per_page))


def household_query(user: User, f: Filters, per_row: bool = False, cutoff=None) -> Select:
    """The households ``user`` may see that pass the filters. ``per_row``: the scope and the
    municipality filter as look-ups for each row (``household_visible``, EXISTS) instead of
    lists of ids, for a query that walks an index in the page's order and stops early."""
    conditions = [household_visible(user) if per_row else household_scope(user)]
    conditions += filter_conditions(f, per_row, cutoff)
    return select(Household).where(*conditions)


def filter_conditions(f: Filters, per_row: bool = False, cutoff=None) -> list:
    """The list's filters as SQL conditions on ``Household`` (the scope apart). ``cutoff``:
    the stale filter's moment as an expression (a bound parameter), instead of now minus
    ``stale_days``."""
    conditions = []
    if f.q:
        clause = match_clause(f.q, db.engine.dialect.name)
        if clause is not None:
            conditions.append(clause)
    if f.stage and not f.stage_on:
        conditions.append(Household.stage == f.stage)
    if f.municipality == "none":
        conditions.append(Household.primary_municipality_code.is_(None))
    elif f.municipality and per_row:
        hm = household_municipality.c
        conditions.append(
            exists().where(hm.household_id == Household.id, hm.municipality_code == f.municipality)
        )
    elif f.municipality:
        conditions.append(Household.id.in_(ids_in_municipalities([f.municipality])))
    if f.guide:
        conditions.append(Household.guide_id == f.guide)
    if f.source:
        conditions.append(Household.source == f.source)
    if f.tag:
        conditions.append(
            exists().where(
                and_(
                    household_tag.c.household_id == Household.id,
                    household_tag.c.tag_id == Tag.id,
                    func.lower(Tag.name) == f.tag.lower(),
                )
            )
        )
    if f.stale_days:
        if cutoff is None:
            cutoff = stale_cutoff(f.stale_days)
        conditions.append(
            or_(
                Household.last_contact_at < cutoff,
                and_(Household.last_contact_at.is_(None), Household.created_at < cutoff),
            )
        )
    if f.event:
        from lotsen.events.figures import event_condition

        conditions.append(event_condition(f.event, f.event_outcome))
    from lotsen.pipeline.listing import history_conditions

    conditions.extend(history_conditions(f))
    return conditions


# the filters other than the sort and the stale days (each narrows the list when set)
_NARROWING = tuple(
    name for name in Filters.__dataclass_fields__ if name not in ("sort", "stale_days")
)


def list_households(user: User, f: Filters, page: int = 1, per_page: int = 50) -> Page:
    offset = (page - 1) * per_page
    # plain rows on the session's connection: the ORM's execution path costs more than
    # running most of these statements
    run = db.session.connection().execute
    if f.q:
        params = {"page_limit": per_page + 1, "page_offset": offset}
        dialect = db.engine.dialect.name
        fts = match_value(f.q, dialect)
        if fts is not None and not any(getattr(f, name) for name in _ONLY_SEARCH):
            stmt, found_stmt = _plain_search(user, f.sort, dialect)
            params["fts"] = fts
            common = _common_word_search(user, f.sort, dialect)
            if common is not None and run(common[0], params).scalar() > COUNT_LIMIT:
                rows = run(common[1], params)
                return _page(rows, COUNT_LIMIT + 1, page, per_page)
        else:
            stmt = household_query(user, f)
            found_stmt = _search_page(stmt, f.sort)
        found = run(found_stmt, params).all()
        total = found[0][1] if found else run(_capped(stmt), params).scalar()
        page_ids = [id_ for id_, _total in found]
    elif not any(getattr(f, name) for name in _NARROWING):  # only a sort and stale days
        count, page_rows = _plain_list(user, f.sort, bool(f.stale_days))
        params = {"page_limit": per_page + 1, "page_offset": offset}
        if f.stale_days:
            params["stale_cutoff"] = stale_cutoff(f.stale_days)
        total = run(count, params).scalar()
        return _page(run(page_rows, params), total, page, per_page)
    else:
        total = _count_visible(user, f)
        # The page walks the sort's index and tests each row with the per-row form of the
        # scope (index look-ups), stopping after a page: a guide's ``id IN (every id of
        # their municipalities)`` would gather and sort all of them first (at 100 000
        # households 120-200 ms instead of under 1 ms). Only the ids: as a subquery of the
        # rows' query below, the rows' details are looked up for the page's rows only,
        # never for every match before a sort.
        page_ids = _page_ids(user, f, per_page + 1, offset)
    return _page(run(_page_rows(page_ids, f.sort)), total, page, per_page)


def _page_rows(page_ids, sort: str) -> Select:
    """The rows of the households ``page_ids`` selects, in the list's order."""
    dialect = db.engine.dialect.name
    return _rows(dialect).where(Household.id.in_(page_ids)).order_by(*sort_columns(Household, sort))


def _page(result, total: int, page: int, per_page: int) -> Page:
    postgresql = db.engine.dialect.name == "postgresql"
    rows = [
        ListRow(*row[:-1], tags=(row[-1] if postgresql else sorted(row[-1])) or [])
        for row in result
    ]
    return Page(
        items=rows[:per_page],
        total=total if total <= COUNT_LIMIT else None,
        page=page,
        per_page=per_page,
        has_next=len(rows) > per_page,
        count_limit=COUNT_LIMIT,
    )


def _page_ids(user: User, f: Filters, limit, offset, cutoff=None) -> Select:
    """The ids of a page of the list, walking the sort's index (see ``list_households``)."""
    return (
        household_query(user, f, per_row=True, cutoff=cutoff)
        .with_only_columns(Household.id)
        .order_by(*sort_columns(Household, f.sort))
        .limit(limit)
        .offset(offset)
        .correlate(None)  # its own FROM household, not the rows' query's
    )


def stale_cutoff(days: int):
    """The moment before which a household's last contact makes it stale."""
    return clock.now() - timedelta(days=days)


# Statements built once per scope and what else shapes them (see ``_plain_list``).
_STATEMENTS: dict = {}


def _plain_list(user: User, sort: str, stale: bool) -> tuple[Select, Select]:
    """The count and the page's rows of the list without filters (or with stale days only),
    with the page and the stale moment as bound parameters (``page_limit``, ``page_offset``,
    ``stale_cutoff``): built once per scope, sort and dialect, not per request (building and
    keying them cost more Python than running them). ``scope_key``: a changed scope gives
    new statements at once."""

    def build():
        f = Filters(sort=sort, stale_days=1 if stale else None)
        cutoff = bindparam("stale_cutoff", type_=Household.last_contact_at.type) if stale else None
        page_ids = _page_ids(user, f, PAGE_LIMIT, PAGE_OFFSET, cutoff)
        return _count_statement(user, f, cutoff, stale), _page_rows(page_ids, sort)

    dialect = db.engine.dialect.name
    return kept(_STATEMENTS, ("list", scope_key(user), sort, stale, dialect), build, 512)


def _search_page(stmt: Select, sort: str) -> Select:
    """The ids of a page of ``stmt``'s matches, each with how many there are (``page_limit``,
    ``page_offset`` bound). Search first, then sort: as a fenced subquery (OFFSET 0) the
    planner takes the text index and sorts the matches, instead of walking the sort index
    and testing every household, which its fixed 2 % guess for prefix searches would make
    it do. Only the ids and sort keys go through the sort; the page's rows come after. The
    matches are all sorted anyway: counting them on the way costs nothing more."""
    keys = (
        stmt.with_only_columns(
            Household.id,
            Household.created_at,
            Household.name,
            Household.last_contact_at,
            Household.move_date,
        )
        .offset(0)
        .subquery()
    )
    return (
        select(keys.c.id, func.count().over())
        .order_by(*sort_columns(keys.c, sort))
        .limit(PAGE_LIMIT)
        .offset(PAGE_OFFSET)
    )


# The list's orders (``ORDERS``) that have an index to read a page from in order, on
# both databases; each ends in the id (SQLite's rowid), which breaks ties as the orders do.
_INDEXED_ORDERS = ("-created", "created", "name", "last_contact", "-last_contact")


def _common_word_search(user: User, sort: str, dialect: str) -> tuple[Select, Select] | None:
    """For a search by a user whose scope is every household (``household_scope`` is
    ``true()``: the scope rule decides, not a role test here): how many households match,
    counted in the text index up to the cap, and, for when that is more than the list
    counts (a common surname), the rows of a page of them read off the sort's index, each
    tested for a match, instead of sorting every match (on SQLite ``+ 0`` keeps it from looking the
    matches up by id; PostgreSQL walks the index by itself for a LIMIT). With a thousand
    matches among 20 000 households that reads ~500 index entries for a page of 25: the
    search's statements 3.4 -> 1.3 ms on SQLite, 4.5 -> 2.8 ms on PostgreSQL. For a rare
    word it would read the whole index, and the count sends it the other way
    (``_search_page``). None for a guide's scope, whose matches the text index alone cannot
    count, and for an order without an index."""
    scope = household_scope(user)
    if scope is not true() or sort not in _INDEXED_ORDERS:
        return None

    def build():
        if dialect == "sqlite":
            matches = fts_rowids(bindparam("fts"))
            counted = select(matches.subquery().c.rowid)
            matching = (Household.id + 0).in_(matches)
        else:
            matching = match_condition(dialect)
            counted = select(Household.id).where(matching)
        capped = counted.limit(_cap()).subquery()
        page = (
            select(Household.id)
            .where(scope, matching)
            .order_by(*sort_columns(Household, sort))
            .limit(PAGE_LIMIT)
            .offset(PAGE_OFFSET)
            .correlate(None)  # its own FROM household, not the rows' query's
        )
        return select(func.count()).select_from(capped), _page_rows(page, sort)

    return kept(_STATEMENTS, ("common word", scope_key(user), sort, dialect), build, 512)


# the filters that make a search more than a search (its statement is then built per request)
_ONLY_SEARCH = tuple(name for name in _NARROWING if name != "q") + ("stale_days",)


def _plain_search(user: User, sort: str, dialect: str) -> tuple[Select, Select]:
    """A search without other filters: the matches' statement and its page's
    (``_search_page``), with the words bound as ``fts``, built once per scope, sort and
    dialect (like ``_plain_list``)."""

    def build():
        stmt = select(Household).where(household_scope(user), match_condition(dialect))
        return stmt, _search_page(stmt, sort)

    return kept(_STATEMENTS, ("search", scope_key(user), sort, dialect), build, 512)


@cache
def _rows(dialect: str) -> Select:
    """The list's rows as plain values in one query: the municipality's and guide's names
    joined in; members, the next open follow-up and the tags as subqueries of each row.
    Built once per process (a statement is immutable; ``where`` makes a new one): building
    it took as long as running it."""
    person_count = select(func.count()).where(Person.household_id == Household.id)
    return (
        select(
            Household.id,
            Household.name,
            Household.country,
            Household.stage,
            Municipality.name,
            User.name,
            Household.last_contact_at,
            select(func.min(FollowUp.due_on))
            .where(FollowUp.household_id == Household.id, FollowUp.status == FollowUpStatus.OPEN)
            .scalar_subquery(),
            person_count.where(Person.kind == PersonKind.ADULT).scalar_subquery(),
            person_count.where(Person.kind != PersonKind.ADULT).scalar_subquery(),
            _tag_names(dialect),
        )
        .outerjoin(Municipality, Municipality.code == Household.primary_municipality_code)
        .outerjoin(User, User.id == Household.guide_id)
    )


def _tag_names(dialect: str):
    """A row's tag names as one JSON array: in name order on PostgreSQL; SQLite's
    ``json_group_array`` takes no order (``list_households`` sorts them in Python, which
    is the order of SQLite's binary collation)."""
    ht = household_tag.c
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        names = func.json_agg(aggregate_order_by(Tag.name, Tag.name), type_=JSON)
    else:
        names = func.json_group_array(Tag.name, type_=JSON)
    return (
        select(names)
        .join(household_tag, ht.tag_id == Tag.id)
        .where(ht.household_id == Household.id)
        .scalar_subquery()
    )


def _capped_count(stmt: Select) -> int:
    """How many rows ``stmt`` selects, counting no further than COUNT_LIMIT + 1."""
    return db.session.scalar(_capped(stmt))


def _capped(stmt: Select) -> Select:
    capped = stmt.with_only_columns(Household.id).order_by(None).limit(_cap())
    return select(func.count()).select_from(capped.subquery())


def _count_visible(user: User, f: Filters) -> int:
    """``_capped_count(household_query(user, f))``, for a guide without reading every id of
    their scope: one capped branch per way a guide sees a household (a municipality of
    theirs, their own, shared with them), each driven by its own index and stopping at the
    cap, then their union. Exact up to the cap: if no branch reaches it, none was cut; if one
    does, the union has at least the cap too. ``tests/test_households.py`` compares it with
    the plain count."""
    return db.session.connection().execute(_count_statement(user, f)).scalar()


def _count_statement(user: User, f: Filters, cutoff=None, stale_only=False) -> Select:
    """``_count_visible``'s statement. ``stale_only``: for a filter most households pass
    (the stale days), where the municipalities' branch alone mostly reaches the cap, that
    branch is counted first and the union only when it stays under the cap (at 20 000
    households, a municipality of 1 975: 3.5 -> 1.5 ms on SQLite); and on PostgreSQL that
    branch tests the municipalities' households one by one (LATERAL), stopping at the cap,
    where it would otherwise merge-join them with every household in id order (10 144
    households read for 1 469; 7.2 -> 2.4 ms). Not for a selective filter (a search), where
    the first branch would be read twice and the join is the better plan."""
    if user.role != Role.GUIDE:
        return _capped(household_query(user, f, cutoff=cutoff))
    cap = COUNT_LIMIT + 1
    filters = filter_conditions(f, cutoff=cutoff)
    hm = household_municipality.c
    codes = sorted(user.municipality_codes)
    in_municipalities = hm.municipality_code.in_(codes)
    if stale_only and db.engine.dialect.name == "postgresql":
        passes = select(literal(1)).where(Household.id == hm.household_id, *filters)
        passes = passes.offset(0).lateral()  # OFFSET 0: a fence, so it stays a nested loop
        municipalities = (
            select(hm.household_id.label("id")).join(passes, true()).where(in_municipalities)
        )
    else:
        municipalities = (
            select(Household.id)
            .join(household_municipality, hm.household_id == Household.id)
            .where(in_municipalities, *filters)
        )
    if len(codes) > 1:  # a household in two of the guide's municipalities is counted once
        municipalities = municipalities.distinct()
    branches = [
        municipalities,
        select(Household.id).where(Household.guide_id == user.id, *filters),
        select(Household.id)
        .join(HouseholdShare, HouseholdShare.household_id == Household.id)
        .where(HouseholdShare.user_id == user.id, *filters),
    ]
    # the caps stay parameters here: written in, PostgreSQL planned this one anew every run
    capped = [b.limit(cap).subquery() for b in branches]
    ids = union(*(select(c.c.id) for c in capped)).subquery()
    count = select(func.count()).select_from(select(ids.c.id).limit(cap).subquery())
    if not stale_only:
        return count
    first = select(func.count()).select_from(municipalities.limit(cap).subquery())
    return select(case((first.scalar_subquery() >= cap, cap), else_=count.scalar_subquery()))
