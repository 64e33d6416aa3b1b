"""One household's history as a single list: contacts, stage changes, notes and events."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lotsen.contacts.models import Contact
from lotsen.extensions import db
from lotsen.households.models import Household, HouseholdEvent, StageChange
from lotsen.households.vocab import EventKind, TimelineKind

LIMIT = 200


@dataclass
class TimelineItem:
    kind: TimelineKind | EventKind  # templates/households/timeline/<kind>.html shows it
    at: datetime
    by: Any
    obj: Any


def timeline(household: Household, limit: int = LIMIT) -> tuple[list[TimelineItem], bool]:
    """The newest ``limit`` items, newest first, and whether older ones were left out."""
    items: list[TimelineItem] = []
    truncated = False
    for model, kind in (
        (Contact, TimelineKind.CONTACT),
        (StageChange, TimelineKind.STAGE),
        (HouseholdEvent, None),
    ):
        rows = list(
            db.session.scalars(
                select(model)
                .where(model.household_id == household.id)
                .options(joinedload(model.by))
                .order_by(model.at.desc(), model.id.desc())
                .limit(limit + 1)
            )
        )
        truncated |= len(rows) > limit
        items += [TimelineItem(kind or row.kind, row.at, row.by, row) for row in rows[:limit]]
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit], truncated or len(items) > limit
