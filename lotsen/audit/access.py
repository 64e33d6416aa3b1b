"""Right of access (GDPR art. 15): everything Lotsen holds about one household.

Complete by construction: besides the household's own row, its municipalities and tags,
every table with a ``household_id`` column is read (members, contacts, follow-ups,
matches, stage history, timeline events, interest submissions, import rows, shares, the
audit entries, and any table a later feature adds, such as consents). Only secrets that
are not the person's data leave out: tokens, nonces, hashes and the search index.
"""

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lotsen import clock
from lotsen.audit.services import _plain
from lotsen.extensions import db
from lotsen.households.models import Household

SECRET_PARTS = ("token", "nonce", "hash", "search")

SECTION_TITLES = {
    "household": _l("Household"),
    "person": _l("Members"),
    "contact": _l("Contacts"),
    "follow_up": _l("Follow-ups"),
    "followup": _l("Follow-ups"),
    "household_match": _l("Matches"),
    "stage_change": _l("Stage history"),
    "household_event": _l("Timeline"),
    "interest_submission": _l("Interest submissions and their consent"),
    "consent": _l("Consents"),
    "household_share": _l("Shared with"),
    "import_row": _l("Imported rows"),
    "audit_entry": _l("Who has accessed or changed the data"),
}


def _row(obj) -> dict[str, Any]:
    return {
        c.key: _plain(getattr(obj, c.key))
        for c in obj.__mapper__.column_attrs
        if not any(part in c.key for part in SECRET_PARTS)
    }


def _household_tables():
    """The mapped classes that hold rows of a household, by table name."""
    found = []
    for mapper in db.Model.registry.mappers:
        table = mapper.local_table
        if mapper.class_ is not Household and "household_id" in getattr(table, "c", {}):
            found.append((table.name, mapper.class_))
    return sorted(found)


def household_record(household: Household) -> dict[str, Any]:
    """The household's complete data as plain values (for JSON and for the document)."""
    record: dict[str, Any] = {
        "produced_at": clock.now().isoformat(),
        "household": _row(household),
        "municipalities": [m.code for m in household.municipalities],
        "tags": [t.name for t in household.tags],
    }
    for name, model in _household_tables():
        order = model.__mapper__.primary_key
        rows = db.session.scalars(
            select(model).where(model.household_id == household.id).order_by(*order)
        )
        record[name] = [_row(r) for r in rows]
    _name_offers(record.get("household_match", []))
    return record


def _name_offers(matches: list[dict]) -> None:
    """A match says which home or job it was: its title beside the id."""
    from lotsen.matching.models import JobOpening, Listing

    for m in matches:
        if m.get("listing_id"):
            m["listing_title"] = db.session.scalar(
                select(Listing.title).where(Listing.id == m["listing_id"])
            )
        if m.get("job_id"):
            m["job_title"] = db.session.scalar(
                select(JobOpening.title).where(JobOpening.id == m["job_id"])
            )


def section_title(name: str) -> str:
    return str(SECTION_TITLES.get(name, name.replace("_", " ")))
