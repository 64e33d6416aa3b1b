"""One summary row per household, derived from its stage history: when it first reached
each stage of the ladder, and its latest entry. The pipeline figures aggregate this narrow
table instead of searching the history household by household.

The row is nothing but a function of the household's ``stage_change`` rows: every path that
writes those rows (creating a household, changing its stage, merging two) and editing the
household's source recompute it with ``refresh_milestones`` in the same transaction;
deleting a household deletes it (cascade).

Next to it, ``household_municipality_milestone`` holds the same facts once per municipality
the household belongs to (its primary one, and every other one it is interested in), with
its current stage and its numbers of adults and children: the per-municipality figures are
then range scans of one narrow table instead of a join of every household to
``household_municipality`` and ``person``. Exactly one of a household's rows is ``counted``
(its primary municipality's; a household without a municipality has one row with none), so
regional figures count each household once. ``refresh_milestones`` rewrites both; it is also
called on every ``update_household`` (source, municipalities, members) and after a merge
has moved the other household's members and municipalities.

"Reached" means reached *at least*: reaching Planning straight from New is reaching
Contacted too; moving back and forth counts once, at the first arrival. Closed is outside
the ladder. ``interest_at`` is the first entry of the history (the one without a from-stage).
"""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Mapped, aliased, mapped_column

from lotsen.db import UTCDateTime
from lotsen.extensions import db
from lotsen.households.models import (
    Household,
    Person,
    StageChange,
    household_municipality,
    str_enum,
)
from lotsen.households.vocab import PersonKind, Source, Stage

LADDER = (
    Stage.NEW,
    Stage.CONTACTED,
    Stage.PLANNING,
    Stage.VISIT,
    Stage.DECIDED,
    Stage.MOVED_IN,
)


class HouseholdMilestone(db.Model):
    """First arrival at each stage and the latest history entry of one household."""

    __tablename__ = "household_milestone"
    # covering: the period's new interests with how far they came (funnel, sources, per
    # month) and the period's arrivals (funders' figures, median days) are index-only
    __table_args__ = (
        Index(
            "ix_household_milestone_interest",
            "interest_at",
            "source",
            "contacted_at",
            "planning_at",
            "visit_at",
            "decided_at",
            "moved_in_at",
            "household_id",
        ),
        Index(
            "ix_household_milestone_moved_in",
            "moved_in_at",
            "contacted_at",
            "source",
            "household_id",
        ),
    )

    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    interest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    planning_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moved_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Up to this moment every entry was a step up the ladder (None: all of them were), so
    # the stage on a day before it is the highest stage reached by then.
    straight_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_stage: Mapped[Stage | None] = mapped_column(str_enum(Stage))
    # the household's source, copied so that the figures by source need not read households
    source: Mapped[Source | None] = mapped_column(str_enum(Source))

    def __repr__(self) -> str:
        return f"<HouseholdMilestone {self.household_id} {self.last_stage}>"


M = HouseholdMilestone

# The milestones the figures by municipality read, once per (household, municipality).
household_municipality_milestone = Table(
    "household_municipality_milestone",
    db.metadata,
    Column(
        "household_id", ForeignKey("household.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("municipality_code", String(4)),  # None: a household without any municipality
    Column("counted", Boolean, nullable=False),  # the one row that counts it in the region
    Column("stage", str_enum(Stage), nullable=False),  # the household's current stage
    Column("source", str_enum(Source)),
    Column("interest_at", UTCDateTime),
    Column("contacted_at", UTCDateTime),
    Column("planning_at", UTCDateTime),
    Column("visit_at", UTCDateTime),
    Column("decided_at", UTCDateTime),
    Column("moved_in_at", UTCDateTime),
    # days from first contact to first moving in (the funders' median), when both happened
    Column("days_to_move", Float),
    # the household's members, for the funders' count of persons moved in
    Column("adults", Integer, nullable=False),
    Column("children", Integer, nullable=False),
    # covering: the current stage table, the period's new interests with how far they came,
    # the period's arrivals with their members and first contact
    Index(
        "ix_household_municipality_milestone_stage",
        "municipality_code",
        "stage",
        "counted",
        "source",
    ),
    Index(
        "ix_household_municipality_milestone_interest",
        "interest_at",
        "municipality_code",
        "counted",
        "source",
        "contacted_at",
        "planning_at",
        "visit_at",
        "decided_at",
        "moved_in_at",
    ),
    Index(
        "ix_household_municipality_milestone_moved_in",
        "moved_in_at",
        "counted",
        "municipality_code",
        "source",
        "days_to_move",
        "adults",
        "children",
    ),
)

MUNICIPALITY_COLUMNS = [c.name for c in household_municipality_milestone.columns]

REACHED = {
    Stage.NEW: M.interest_at,
    Stage.CONTACTED: M.contacted_at,
    Stage.PLANNING: M.planning_at,
    Stage.VISIT: M.visit_at,
    Stage.DECIDED: M.decided_at,
    Stage.MOVED_IN: M.moved_in_at,
    Stage.CLOSED: M.closed_at,
}


def reached_at(stage: Stage | str):
    """The column holding when the household first reached ``stage`` (at least)."""
    return REACHED[Stage(stage)]


def stage_on(moment: datetime, looked_up):
    """The stage just before ``moment`` as the history says, for a query that joins
    ``HouseholdMilestone``: read from the row when its history is plain up to ``moment``
    (nothing before it, nothing after it, or only steps up the ladder), else
    ``looked_up`` (a search of the history; both databases evaluate CASE lazily)."""
    highest = case(
        *((REACHED[s] < moment, s.value) for s in reversed(LADDER[1:])),
        else_=Stage.NEW.value,
    )
    return case(
        (M.first_at >= moment, None),
        (M.last_at < moment, M.last_stage),
        (
            and_(
                M.first_at < moment,  # a household without a row is looked up
                or_(M.straight_until.is_(None), M.straight_until >= moment),
            ),
            highest,
        ),
        else_=looked_up,
    )


def _at_least(stage: Stage) -> list[str]:
    if stage == Stage.CLOSED:
        return [Stage.CLOSED.value]
    return [s.value for s in LADDER[LADDER.index(stage) :]]


def _rank(column):
    """0 (New) to 5 (Moved in) up the ladder; -1 for Closed."""
    return case(*((column == s.value, i) for i, s in enumerate(LADDER)), else_=-1)


def milestones_select(household_ids: Iterable[int] | None = None):
    """The rows of ``COLUMNS`` computed from the history of ``household_ids`` (None: of
    every household), the history read in (at, id) order."""
    sc = StageChange
    rank = _rank(sc.to_stage)
    entries = select(
        sc.household_id,
        sc.at,
        sc.from_stage,
        sc.to_stage,
        rank.label("rank"),
        func.lag(rank).over(partition_by=sc.household_id, order_by=(sc.at, sc.id)).label("prev"),
    )
    if household_ids is not None:
        entries = entries.where(sc.household_id.in_(list(household_ids)))
    e = entries.subquery("entries")
    latest = aliased(StageChange)
    last_stage = (
        select(latest.to_stage)
        .where(latest.household_id == e.c.household_id)
        .order_by(latest.at.desc(), latest.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    firsts = [func.min(case((e.c.from_stage.is_(None), e.c.at)))]
    firsts += [
        func.min(case((e.c.to_stage.in_(_at_least(stage)), e.c.at)))
        for stage in (*LADDER[1:], Stage.CLOSED)
    ]
    # the first entry that is not a step up the ladder: a close, a step back or aside
    not_up = or_(
        e.c.to_stage == Stage.CLOSED.value, and_(e.c.prev.is_not(None), e.c.rank <= e.c.prev)
    )
    return (
        select(
            e.c.household_id,
            *firsts,
            func.min(e.c.at),
            func.min(case((not_up, e.c.at))),
            func.max(e.c.at),
            last_stage,
            Household.source,
        )
        .join(Household, Household.id == e.c.household_id)
        .group_by(e.c.household_id, Household.source)
    )


COLUMNS = [
    "household_id",
    "interest_at",
    "contacted_at",
    "planning_at",
    "visit_at",
    "decided_at",
    "moved_in_at",
    "closed_at",
    "first_at",
    "straight_until",
    "last_at",
    "last_stage",
    "source",
]


def days_between(later, earlier):
    """Days from ``earlier`` to ``later`` (fractional), on either database."""
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


def municipality_milestones_select(household_ids: Iterable[int] | None = None):
    """The rows of ``household_municipality_milestone`` for ``household_ids`` (None: every
    household): its primary municipality's row (counted) and one for each other
    municipality in ``household_municipality``, each with the household's milestone row."""
    h, hm = Household, household_municipality.c

    def members(kind: PersonKind):
        return (
            select(func.count())
            .where(Person.household_id == h.id, Person.kind == kind)
            .scalar_subquery()
        )

    facts = [
        h.stage,
        h.source,
        M.interest_at,
        M.contacted_at,
        M.planning_at,
        M.visit_at,
        M.decided_at,
        M.moved_in_at,
        days_between(M.moved_in_at, M.contacted_at),
        members(PersonKind.ADULT),
        members(PersonKind.CHILD),
    ]
    primary = (
        select(h.id, h.primary_municipality_code, true(), *facts)
        .select_from(h)
        .outerjoin(M, M.household_id == h.id)
    )
    others = (
        select(hm.household_id, hm.municipality_code, false(), *facts)
        .select_from(household_municipality)
        .join(h, h.id == hm.household_id)
        .outerjoin(M, M.household_id == h.id)
        .where(
            or_(
                h.primary_municipality_code.is_(None),
                hm.municipality_code != h.primary_municipality_code,
            )
        )
    )
    if household_ids is not None:
        ids = list(household_ids)
        primary, others = primary.where(h.id.in_(ids)), others.where(h.id.in_(ids))
    return union_all(primary, others)


def refresh_milestones(household_ids: Iterable[int]) -> None:
    """Recompute the summary rows of ``household_ids`` from their stage history, and their
    rows per municipality from those and the household's municipalities."""
    ids = sorted(set(household_ids))
    if not ids:
        return
    db.session.flush()
    db.session.execute(
        delete(M).where(M.household_id.in_(ids)).execution_options(synchronize_session=False)
    )
    db.session.execute(
        insert(M).from_select(COLUMNS, milestones_select(ids)),
    )
    per = household_municipality_milestone
    db.session.execute(delete(per).where(per.c.household_id.in_(ids)))
    db.session.execute(
        insert(per).from_select(MUNICIPALITY_COLUMNS, municipality_milestones_select(ids))
    )


def rebuild_milestones() -> None:
    """Recompute every household's summary rows (after bulk loads that bypass the services)."""
    db.session.execute(delete(M).execution_options(synchronize_session=False))
    db.session.execute(insert(M).from_select(COLUMNS, milestones_select()))
    per = household_municipality_milestone
    db.session.execute(delete(per))
    db.session.execute(
        insert(per).from_select(MUNICIPALITY_COLUMNS, municipality_milestones_select())
    )
