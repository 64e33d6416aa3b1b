"""Undoing an import: what it created goes, unless someone has worked on it since."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from lotsen.accounts.models import User
from lotsen.contacts.models import Contact
from lotsen.db import utcnow
from lotsen.extensions import db
from lotsen.followups.models import FollowUp
from lotsen.households.milestones import HouseholdMilestone
from lotsen.households.models import (
    Household,
    HouseholdEvent,
    HouseholdShare,
    Person,
    StageChange,
    household_municipality,
    household_tag,
)
from lotsen.imports.models import ImportBatch
from lotsen.imports.services import ImportError_, chunked, history_counts, versions_of
from lotsen.interest.models import InterestSubmission


def _with_any(model, ids: list[int], *where) -> set[int]:
    found: set[int] = set()
    for chunk in chunked(ids):
        found |= set(
            db.session.scalars(
                select(model.household_id).where(model.household_id.in_(chunk), *where).distinct()
            )
        )
    return found


def undo_import(batch: ImportBatch, by: User, now: datetime | None = None) -> tuple[int, int]:
    """Remove what the import created and the entries it attached. A household that has
    changed since (an edit, a contact, a note, a follow-up, a stage change) stays, and its
    row says so. Returns (rows undone, rows refused)."""
    if batch.status not in ("done", "partly_undone"):
        raise ImportError_(_l("Only a finished import can be undone."))
    rows = [r for r in batch.results if not r.undone and r.outcome in ("created", "attached")]
    created = {r.household_id: r for r in rows if r.outcome == "created" and r.household_id}
    ids = list(created)
    versions = dict(versions_of(ids))
    history = history_counts(ids)
    busy = _with_any(Contact, ids) | _with_any(FollowUp, ids, FollowUp.created_by_rule.is_(None))
    busy |= _with_any(InterestSubmission, ids)
    removable, refused = [], 0
    for household_id, row in created.items():
        if household_id not in versions:
            continue  # merged into another or removed since: nothing left to undo
        if (
            versions[household_id] != row.version
            or history.get(household_id, 0) != row.history
            or household_id in busy
        ):
            refused += 1
            row.message = str(
                _l("Not removed: the household has been changed or contacted since the import.")
            )
        else:
            removable.append(household_id)
    done = 0
    attached = [r for r in rows if r.outcome == "attached"]
    for chunk in chunked([r.event_id for r in attached if r.event_id]):
        db.session.execute(
            delete(HouseholdEvent)
            .where(HouseholdEvent.id.in_(chunk))
            .execution_options(synchronize_session=False)
        )
    for row in attached:
        row.undone, done = True, done + 1
        if row.household_id in created:  # its entry no longer counts for that household
            created[row.household_id].history -= 1
    for chunk in chunked(removable):
        for model in (
            FollowUp,
            StageChange,
            HouseholdMilestone,
            HouseholdEvent,
            Person,
            HouseholdShare,
        ):
            db.session.execute(
                delete(model)
                .where(model.household_id.in_(chunk))
                .execution_options(synchronize_session=False)
            )
        for table in (household_municipality, household_tag):
            db.session.execute(delete(table).where(table.c.household_id.in_(chunk)))
        db.session.execute(
            delete(Household)
            .where(Household.id.in_(chunk))
            .execution_options(synchronize_session=False)
        )
    from lotsen.audit import audit

    for household_id in removable:
        created[household_id].undone, done = True, done + 1
        audit("household.delete", by=by, household_id=household_id, target=f"import:{batch.id}")
    for household_id, row in created.items():
        if household_id not in versions:
            row.undone = True
    batch.status = "partly_undone" if refused else "undone"
    batch.undone_at, batch.undone_by_id = now or utcnow(), by.id
    db.session.flush()
    return done, refused
