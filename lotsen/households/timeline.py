"""One household's history as a single list: contacts, stage changes, notes and events."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from types import SimpleNamespace

from sqlalchemy import JSON, Integer, String, bindparam, cast, literal, null, select, type_coerce
from sqlalchemy.sql import Select

from lotsen.accounts.models import User
from lotsen.contacts.models import Contact
from lotsen.extensions import db
from lotsen.households.models import HouseholdEvent, StageChange
from lotsen.households.vocab import TimelineKind

LIMIT = 200

# What templates/households/timeline/<kind>.html read of each source (``item.obj.<name>``),
# in the order of the statement's columns a, b, c and text.
_NAMES = {
    0: ("channel", "direction", None, "summary"),
    1: ("from_stage", "to_stage", "close_reason", "comment"),
    2: (None, None, None, "text"),
}


@dataclass
class TimelineItem:
    kind: str  # a TimelineKind or EventKind: templates/households/timeline/<kind>.html shows it
    at: datetime
    by_name: str | None
    obj: SimpleNamespace


def timeline(household_id: int, limit: int = LIMIT) -> tuple[list[TimelineItem], bool]:
    """The newest ``limit`` items, newest first, and whether older ones were left out."""
    rows = (
        db.session.connection()
        .execute(_statement(), {"household_id": household_id, "limit": limit + 1})
        .all()
    )
    items = [
        TimelineItem(
            row.kind,
            row.at,
            row.by_name,
            SimpleNamespace(
                id=row.id,
                data=row.data,
                **{
                    name: value
                    for name, value in zip(
                        _NAMES[row.src], (row.a, row.b, row.c, row.text), strict=True
                    )
                    if name
                },
            ),
        )
        for row in rows[:limit]
    ]
    return items, len(rows) > limit


@cache
def _statement() -> Select:
    """The three sources in one statement, built once, as plain rows: the page shows a
    few columns of each, and the ORM objects cost more than the query. Ties in time keep
    the order contacts, stage changes, events."""

    def source(src: int, model, kind, a=None, b=None, c=None, text=None, data=None):
        def plain(column):  # values as stored: the enums' processors differ per source
            return null() if column is None else type_coerce(column, String)

        return (
            select(
                literal(src, Integer).label("src"),
                plain(kind).label("kind"),
                model.at.label("at"),
                User.name.label("by_name"),
                model.id.label("id"),
                plain(a).label("a"),
                plain(b).label("b"),
                plain(c).label("c"),
                plain(text).label("text"),
                (cast(null(), JSON) if data is None else data).label("data"),
            )
            .outerjoin(User, User.id == model.by_id)
            .where(model.household_id == bindparam("household_id"))
        )

    union = (
        source(
            0,
            Contact,
            literal(TimelineKind.CONTACT.value),
            Contact.channel,
            Contact.direction,
            text=Contact.summary,
        )
        .union_all(
            source(
                1,
                StageChange,
                literal(TimelineKind.STAGE.value),
                StageChange.from_stage,
                StageChange.to_stage,
                StageChange.close_reason,
                StageChange.comment,
            ),
            source(
                2,
                HouseholdEvent,
                HouseholdEvent.kind,
                text=HouseholdEvent.text,
                data=HouseholdEvent.data,
            ),
        )
        .subquery()
    )
    return (
        select(union)
        .order_by(union.c.at.desc(), union.c.src, union.c.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )
