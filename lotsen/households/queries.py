"""The household list: filters, free-text search, sorting and pagination in SQL."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import selectinload

from lotsen.access import household_scope
from lotsen.accounts.models import User
from lotsen.db import utcnow
from lotsen.extensions import db
from lotsen.households.models import Household, Tag, household_municipality, household_tag
from lotsen.households.search import match_clause

SORT_COLUMNS = {
    "-created": (Household.created_at.desc(), Household.id.desc()),
    "created": (Household.created_at.asc(), Household.id.asc()),
    "name": (Household.name.asc(), Household.id.asc()),
    "last_contact": (Household.last_contact_at.asc().nulls_first(), Household.id.asc()),
    "-last_contact": (Household.last_contact_at.desc().nulls_last(), Household.id.desc()),
    "move_date": (Household.move_date.asc().nulls_last(), Household.id.asc()),
}


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


@dataclass
class Page:
    items: list[Household]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def household_query(user: User, f: Filters) -> Select:
    conditions = [household_scope(user)]
    if f.q:
        clause = match_clause(f.q, db.engine.dialect.name)
        if clause is not None:
            conditions.append(clause)
    if f.stage:
        conditions.append(Household.stage == f.stage)
    if f.municipality == "none":
        conditions.append(Household.primary_municipality_code.is_(None))
    elif f.municipality:
        conditions.append(
            or_(
                Household.primary_municipality_code == f.municipality,
                exists().where(
                    and_(
                        household_municipality.c.household_id == Household.id,
                        household_municipality.c.municipality_code == f.municipality,
                    )
                ),
            )
        )
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
        cutoff = utcnow() - timedelta(days=f.stale_days)
        conditions.append(
            or_(
                Household.last_contact_at < cutoff,
                and_(Household.last_contact_at.is_(None), Household.created_at < cutoff),
            )
        )
    return select(Household).where(*conditions)


def list_households(user: User, f: Filters, page: int = 1, per_page: int = 50) -> Page:
    stmt = household_query(user, f)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    order = SORT_COLUMNS.get(f.sort, SORT_COLUMNS["-created"])
    items = list(
        db.session.scalars(
            stmt.order_by(*order)
            .limit(per_page)
            .offset((page - 1) * per_page)
            .options(
                selectinload(Household.guide),
                selectinload(Household.primary_municipality),
                selectinload(Household.tags),
                selectinload(Household.persons),
            )
        )
    )
    return Page(items=items, total=total, page=page, per_page=per_page)
