"""Merging two records of the same household into one, keeping all their history."""

from functools import lru_cache

from sqlalchemy import Integer, bindparam, or_, select, update

from lotsen import clock
from lotsen.accounts.models import User
from lotsen.contacts.models import Contact
from lotsen.db import written_in
from lotsen.extensions import db
from lotsen.followups.models import FollowUp, FollowUpStatus
from lotsen.followups.services import hand_back_followups
from lotsen.households.milestones import refresh_milestones
from lotsen.households.models import Household, HouseholdEvent, HouseholdShare, StageChange
from lotsen.households.search import build_search_text
from lotsen.households.services import EDITABLE_FIELDS, HouseholdError
from lotsen.households.vocab import EventKind

FILLABLE = tuple(f for f in EDITABLE_FIELDS if f != "name")


def possible_duplicates(household: Household, scope, limit: int = 5) -> list:
    """Other visible households with the same e-mail, phone or name: rows of id, name and
    e-mail (what the page shows of them)."""
    statement = _duplicates_statement(bool(household.email), bool(household.phone), scope)
    values = {"id": household.id, "name": household.name, "limit": limit}
    values.update(email=household.email, phone=household.phone)
    return db.session.connection().execute(statement, values).all()


@lru_cache(maxsize=1024)
def _duplicates_statement(email: bool, phone: bool, scope):
    """Built once per shape and scope condition (lotsen/access.py caches those per guide):
    the household page runs it on every view."""
    same = [Household.name == bindparam("name")]
    if email:
        same.append(Household.email == bindparam("email"))
    if phone:
        same.append(Household.phone == bindparam("phone"))
    return (
        select(Household.id, Household.name, Household.email)
        .where(Household.id != bindparam("id"), or_(*same), scope)
        .limit(written_in("limit", type_=Integer))
    )


def merge_households(keep: Household, other: Household, by: User) -> list[str]:
    """Move everything of ``other`` into ``keep`` and delete ``other``. Empty fields of
    ``keep`` take ``other``'s values; returns the names of those fields."""
    if keep.id == other.id:
        raise HouseholdError("a household cannot be merged with itself")
    filled = _fill_empty_fields(keep, other)
    _cancel_rule_followups_keep_has(keep, other)
    _move_history(keep, other)
    _move_members_and_links(keep, other)
    # keep's history (and municipalities) now hold both
    refresh_milestones([keep.id, other.id])
    _take_dates(keep, other)
    keep.version += 1
    _record_merge(keep, other, by, filled)
    db.session.flush()
    from lotsen.audit import audit

    for household_id, role in ((keep.id, "kept"), (other.id, "merged_away")):
        audit(
            "household.merge",
            by=by,
            household_id=household_id,
            target=f"household:{other.id if role == 'kept' else keep.id}",
            changes={"role": role, "filled": filled, "kept_id": keep.id, "merged_id": other.id},
        )
    db.session.delete(other)
    db.session.flush()
    keep.search_text = build_search_text(keep)
    db.session.flush()
    hand_back_followups(by, household=keep)  # the other's guide may not see this one
    return filled


def _fill_empty_fields(keep: Household, other: Household) -> list[str]:
    filled = [f for f in FILLABLE if getattr(keep, f) in (None, "") and getattr(other, f)]
    for f in filled:
        setattr(keep, f, getattr(other, f))
    return filled


def _cancel_rule_followups_keep_has(keep: Household, other: Household) -> None:
    """A rule's open follow-up may exist once per household: keep's wins."""
    keep_rules = set(
        db.session.scalars(
            select(FollowUp.rule_key).where(
                FollowUp.household_id == keep.id,
                FollowUp.status == FollowUpStatus.OPEN,
                FollowUp.rule_key.is_not(None),
            )
        )
    )
    if keep_rules:
        db.session.execute(
            update(FollowUp)
            .where(
                FollowUp.household_id == other.id,
                FollowUp.status == FollowUpStatus.OPEN,
                FollowUp.rule_key.in_(keep_rules),
            )
            .values(status=FollowUpStatus.CANCELLED, completed_at=clock.now())
            .execution_options(synchronize_session=False)
        )


def _move_history(keep: Household, other: Household) -> None:
    """Contacts, stage changes, events, follow-ups and interest submissions."""
    from lotsen.interest.models import InterestSubmission

    for model in (Contact, StageChange, HouseholdEvent, FollowUp, InterestSubmission):
        db.session.execute(
            update(model)
            .where(model.household_id == other.id)
            .values(household_id=keep.id)
            .execution_options(synchronize_session=False)
        )
    from lotsen.matching.services import move_matches

    move_matches(other.id, keep.id)


def _move_members_and_links(keep: Household, other: Household) -> None:
    """Members after keep's own; municipalities, tags and shares keep lacks."""
    position = len(keep.persons)
    for person in list(other.persons):
        person.position = position
        position += 1
        keep.persons.append(person)
    codes = {m.code for m in keep.municipalities}
    keep.municipalities.extend(m for m in other.municipalities if m.code not in codes)
    names = {t.name for t in keep.tags}
    keep.tags.extend(t for t in other.tags if t.name not in names)
    shared = {s.user_id for s in keep.shares}
    for share in list(other.shares):
        if share.user_id not in shared:
            keep.shares.append(HouseholdShare(user_id=share.user_id, by_id=share.by_id))


def _take_dates(keep: Household, other: Household) -> None:
    """The later last contact and the earlier registration of the two."""
    if other.last_contact_at and (
        keep.last_contact_at is None or other.last_contact_at > keep.last_contact_at
    ):
        keep.last_contact_at = other.last_contact_at
    keep.created_at = min(keep.created_at, other.created_at)


def _record_merge(keep: Household, other: Household, by: User, filled: list[str]) -> None:
    db.session.add(
        HouseholdEvent(
            household_id=keep.id,
            kind=EventKind.MERGED,
            by_id=by.id,
            data={"other": other.name, "other_id": other.id, "filled": filled},
        )
    )
