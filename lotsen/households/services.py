"""Household rules: create, edit, stage changes, notes, handover and sharing.

Service functions only flush; the caller (request, CLI command, job) commits once.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lotsen import clock
from lotsen.accounts.models import Role, User
from lotsen.audit import audit, diff, snapshot
from lotsen.extensions import db
from lotsen.followups.services import hand_back_followups
from lotsen.households.milestones import refresh_milestones
from lotsen.households.models import (
    Household,
    HouseholdEvent,
    HouseholdShare,
    Person,
    StageChange,
    Tag,
)
from lotsen.households.search import build_search_text
from lotsen.households.vocab import CloseReason, EventKind, PersonKind, Stage
from lotsen.regions.models import Municipality

# The household columns a form may set; anything else (stage, guide scope, ids) has its own verb.
EDITABLE_FIELDS = (
    "name",
    "email",
    "phone",
    "country",
    "town",
    "language",
    "mover_kind",
    "primary_municipality_code",
    "housing_tenure",
    "housing_type",
    "housing_rooms",
    "housing_budget",
    "housing_area",
    "housing_needs",
    "move_date",
    "timeframe_code",
    "timeframe",
    "source",
    "source_detail",
    "notes",
)
PERSON_FIELDS = (
    "kind",
    "first_name",
    "last_name",
    "birth_year",
    "occupation",
    "ssyk_code",
    "languages",
    "seeks_job",
    "credentials",
)


class HouseholdError(ValueError):
    """A household rule was broken; the message is shown to the user."""


class StaleEdit(HouseholdError):
    """Someone else saved the household after the form was opened."""


@dataclass
class HouseholdData:
    """What a household form (or an import, or the interest form) says about a household."""

    fields: dict[str, Any]
    persons: list[dict[str, Any]]
    other_municipalities: list[str]
    tags: list[str]


def _event(household: Household, kind: EventKind, by: User | None, text=None, data=None, at=None):
    db.session.add(
        HouseholdEvent(
            household_id=household.id,
            kind=kind,
            by_id=by.id if by else None,
            text=text,
            data=data,
            at=at or clock.now(),
        )
    )


def _tags(names: list[str]) -> list[Tag]:
    wanted = {n.strip().lower(): n.strip() for n in names if n.strip()}
    if not wanted:
        return []
    existing = {
        t.name.lower(): t
        for t in db.session.scalars(select(Tag).where(Tag.name.in_(wanted.values())))
    }
    tags = []
    for key, name in wanted.items():
        tag = existing.get(key)
        if tag is None:
            tag = db.session.scalar(select(Tag).where(Tag.name == name)) or Tag(name=name)
            db.session.add(tag)
        tags.append(tag)
    return tags


def _municipalities(codes: list[str], primary: str | None) -> list[Municipality]:
    """All municipalities of interest, the primary one included."""
    codes = sorted(set(codes) | ({primary} if primary else set()))
    if not codes:
        return []
    return list(db.session.scalars(select(Municipality).where(Municipality.code.in_(codes))))


def _apply_persons(household: Household, rows: list[dict[str, Any]]) -> None:
    by_id = {p.id: p for p in household.persons if p.id is not None}
    kept = []
    for position, row in enumerate(rows):
        person = by_id.pop(row.get("id"), None) if row.get("id") else None
        if person is None:
            person = Person()
        for name in PERSON_FIELDS:
            setattr(person, name, row.get(name))
        person.kind = PersonKind(row.get("kind") or PersonKind.ADULT)
        person.seeks_job = bool(row.get("seeks_job")) and person.kind == PersonKind.ADULT
        person.position = position
        kept.append(person)
    household.persons = kept


def _apply(household: Household, data: HouseholdData) -> list[str]:
    """Set the household from ``data``; returns the names of what changed."""
    changed = [n for n in EDITABLE_FIELDS if getattr(household, n) != data.fields.get(n)]
    for name in EDITABLE_FIELDS:
        setattr(household, name, data.fields.get(name))
    before = {m.code for m in household.other_municipalities}
    household.municipalities = _municipalities(
        data.other_municipalities, household.primary_municipality_code
    )
    if {m.code for m in household.other_municipalities} != before:
        changed.append("other_municipalities")
    tags = _tags(data.tags)
    if {t.name for t in tags} != {t.name for t in household.tags}:
        changed.append("tags")
    household.tags = tags
    before = [(p.full_name, p.birth_year) for p in household.persons]
    _apply_persons(household, data.persons)
    if before != [(p.full_name, p.birth_year) for p in household.persons]:
        changed.append("persons")
    household.search_text = build_search_text(household)
    return changed


def create_household(
    data: HouseholdData,
    by: User | None,
    guide: User | None = None,
    at: datetime | None = None,
    refresh: bool = True,
) -> Household:
    """A new household at stage New; a guide who registers it becomes its guide by default.
    ``refresh=False``: the caller creates many and calls ``refresh_milestones`` once for all
    of them in the same transaction (lead capture's batches)."""
    at = at or clock.now()
    if guide is None and by is not None and by.role == Role.GUIDE:
        guide = by
    household = Household(
        stage=Stage.NEW, stage_changed_at=at, created_at=at, created_by=by, guide=guide
    )
    _apply(household, data)
    db.session.add(household)
    db.session.flush()
    db.session.add(
        StageChange(
            household_id=household.id,
            from_stage=None,
            to_stage=Stage.NEW,
            by_id=by.id if by else None,
            at=at,
        )
    )
    _event(household, EventKind.CREATED, by, at=at)
    db.session.flush()
    audit("household.create", by=by, household_id=household.id, changes=_facts(household))
    for person in household.persons:
        audit(
            "member.create",
            by=by,
            household_id=household.id,
            target=f"person:{person.id}",
            changes=snapshot(person, PERSON_FIELDS),
        )
    if refresh:
        refresh_milestones([household.id])
    return household


def _facts(household: Household) -> dict[str, Any]:
    """The household's own fields, municipalities and tags, for the audit log."""
    facts = {k: v for k, v in snapshot(household, EDITABLE_FIELDS).items() if v not in (None, "")}
    facts["other_municipalities"] = sorted(m.code for m in household.other_municipalities)
    facts["tags"] = sorted(t.name for t in household.tags)
    return facts


def _audit_update(household: Household, by, before: dict, persons_before: dict) -> None:
    """One entry for the household's fields ({field: [old, new]}), one per member added,
    changed or removed."""
    after = _facts(household)
    changes = {
        k: [before.get(k), after.get(k)]
        for k in before.keys() | after.keys()
        if before.get(k) != after.get(k)
    }
    if changes:
        audit("household.update", by=by, household_id=household.id, changes=changes)
    for person in household.persons:
        old = persons_before.pop(person.id, None)
        if old is None:
            audit(
                "member.create",
                by=by,
                household_id=household.id,
                target=f"person:{person.id}",
                changes=snapshot(person, PERSON_FIELDS),
            )
        elif changed := diff(person, PERSON_FIELDS, old):
            audit(
                "member.update",
                by=by,
                household_id=household.id,
                target=f"person:{person.id}",
                changes=changed,
            )
    for person_id, old in persons_before.items():
        audit(
            "member.delete",
            by=by,
            household_id=household.id,
            target=f"person:{person_id}",
            changes=old,
        )


def update_household(
    household: Household, data: HouseholdData, by: User, expected_version: int | None = None
) -> list[str]:
    """Save an edit; refuses (StaleEdit) if someone else saved since ``expected_version``."""
    if expected_version is not None and expected_version != household.version:
        raise StaleEdit(
            _l(
                "Someone else saved this household while you were editing. Your changes are "
                "still in the form: check them against the current data and save again."
            )
        )
    before = _facts(household)
    persons_before = {p.id: snapshot(p, PERSON_FIELDS) for p in household.persons}
    changed = _apply(household, data)
    if changed:
        household.version += 1
        _event(household, EventKind.EDITED, by, data={"changed": changed})
    db.session.flush()
    _audit_update(household, by, before, persons_before)
    refresh_milestones([household.id])  # the source, municipalities and members they hold
    if {"primary_municipality_code", "other_municipalities"} & set(changed):
        hand_back_followups(by, household=household)
    return changed


def change_stage(
    household: Household,
    to: Stage,
    by: User | None,
    close_reason: CloseReason | None = None,
    comment: str | None = None,
    at: datetime | None = None,
) -> StageChange | None:
    """Move a household to another stage; closing needs a reason. Every change is history."""
    to = Stage(to)
    if to == Stage.CLOSED and close_reason is None:
        raise HouseholdError(_l("Closing a household needs a reason."))
    if to != Stage.CLOSED:
        close_reason = None
    if to == household.stage and close_reason == household.close_reason:
        return None
    at = at or clock.now()
    change = StageChange(
        household_id=household.id,
        from_stage=household.stage,
        to_stage=to,
        close_reason=close_reason,
        comment=comment or None,
        by_id=by.id if by else None,
        at=at,
    )
    db.session.add(change)
    household.stage = to
    household.close_reason = close_reason
    household.stage_changed_at = at
    household.version += 1
    db.session.flush()
    stage_changes = {"stage": [change.from_stage, to]}
    if close_reason is not None:
        stage_changes["close_reason"] = [None, close_reason]
    audit("household.stage", by=by, household_id=household.id, changes=stage_changes)
    refresh_milestones([household.id])
    return change


def add_note(household: Household, text: str, by: User) -> None:
    _event(household, EventKind.NOTE, by, text=text)
    db.session.flush()
    audit("note.create", by=by, household_id=household.id, changes={"text": text})


def hand_over(household: Household, to: User, by: User) -> None:
    """Make ``to`` the household's guide (they then see it, whatever its municipalities)."""
    if to.role != Role.GUIDE or not to.active:
        raise HouseholdError(_l("A household can only be handed over to an active guide."))
    if to.id == by.id:
        raise HouseholdError(
            _l(
                "You cannot hand a household over to yourself. Ask its guide or a "
                "coordinator to hand it over to you."
            )
        )
    if household.guide_id == to.id:
        return
    previous = household.guide
    household.guide = to
    household.version += 1
    _event(
        household,
        EventKind.HANDOVER,
        by,
        data={"from": previous.name if previous else None, "to": to.name, "to_id": to.id},
    )
    db.session.flush()
    audit(
        "household.handover",
        by=by,
        household_id=household.id,
        target=f"user:{to.id}",
        changes={"guide_id": [previous.id if previous else None, to.id]},
    )
    hand_back_followups(by, household=household)


def share_household(household: Household, with_user: User, by: User) -> None:
    if with_user.role != Role.GUIDE or not with_user.active:
        raise HouseholdError(_l("A household can only be shared with an active guide."))
    if with_user.id == by.id:
        raise HouseholdError(
            _l(
                "You cannot share a household with yourself. Ask its guide or a coordinator "
                "to share it with you."
            )
        )
    if any(s.user_id == with_user.id for s in household.shares):
        return
    household.shares.append(HouseholdShare(user=with_user, by_id=by.id))
    _event(household, EventKind.SHARE, by, data={"with": with_user.name, "with_id": with_user.id})
    db.session.flush()
    audit("household.share", by=by, household_id=household.id, target=f"user:{with_user.id}")


def unshare_household(household: Household, user_id: int, by: User) -> None:
    share = next((s for s in household.shares if s.user_id == user_id), None)
    if share is None:
        return
    household.shares.remove(share)
    _event(household, EventKind.UNSHARE, by, data={"with": share.user.name, "with_id": user_id})
    db.session.flush()
    audit("household.unshare", by=by, household_id=household.id, target=f"user:{user_id}")
    hand_back_followups(by, household=household)
