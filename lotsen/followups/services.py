"""Follow-ups: create, complete, reschedule, snooze; the lists of "my day"."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, bindparam, delete, func, select
from sqlalchemy.orm import joinedload

from lotsen import clock
from lotsen.access import household_visible, household_visible_to
from lotsen.accounts.models import Role, User
from lotsen.audit import audit
from lotsen.contacts.models import Contact
from lotsen.db import written_in
from lotsen.extensions import db
from lotsen.followups.models import FollowUp, FollowUpStatus
from lotsen.households.models import Household, HouseholdEvent
from lotsen.households.vocab import EventKind
from lotsen.notifications.models import OutboxMessage, OutboxStatus

DEFAULT_TITLE = _l("Follow up")
BULK_LIMIT = 500


class FollowUpError(ValueError):
    """A follow-up rule was broken; the message is shown to the user."""


def _sees(user: User, household: Household) -> bool:
    stmt = select(Household.id).where(Household.id == household.id, household_visible(user))
    return db.session.scalar(stmt) is not None


def hand_back_followups(
    by: User | None, *, household: Household | None = None, assignee: User | None = None
) -> int:
    """After a change of who sees what (hand-over, unshare, other municipalities, a user's
    municipalities): open follow-ups of people who can no longer see their household go to
    its guide — to the regional inbox when it has none — with a note on the timeline."""
    db.session.flush()  # the scope rule reads the new state from the database
    stmt = (
        select(FollowUp)
        .join(Household, Household.id == FollowUp.household_id)
        .where(
            FollowUp.status == FollowUpStatus.OPEN,
            FollowUp.assignee_id.is_not(None),
            ~household_visible_to(FollowUp.assignee_id),
        )
        .options(joinedload(FollowUp.assignee), joinedload(FollowUp.household))
        .order_by(FollowUp.household_id, FollowUp.id)
    )
    if household is not None:
        stmt = stmt.where(FollowUp.household_id == household.id)
    if assignee is not None:
        stmt = stmt.where(FollowUp.assignee_id == assignee.id)
    lost = list(db.session.scalars(stmt))
    # A reminder still waiting in the outbox would reach the one who lost access: drop it
    # (which frees its key for the new assignee's reminder).
    queued = [f"reminder:{f.id}:{f.reminded_for}" for f in lost if f.reminded_for]
    if queued:
        db.session.execute(
            delete(OutboxMessage)
            .where(
                OutboxMessage.dedup_key.in_(queued),
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .execution_options(synchronize_session=False)
        )
    per_household: dict[Household, list[FollowUp]] = {}
    for f in lost:
        per_household.setdefault(f.household, []).append(f)
    for h, followups in per_household.items():
        db.session.add(
            HouseholdEvent(
                household_id=h.id,
                kind=EventKind.FOLLOWUPS_MOVED,
                by_id=by.id if by else None,
                at=clock.now(),
                data={
                    "from": sorted({f.assignee.name for f in followups}),
                    "to": h.guide.name if h.guide else None,
                    "titles": [f.title for f in followups],
                },
            )
        )
        for f in followups:
            f.assignee_id = h.guide_id
            f.reminded_for = None  # the new assignee gets the reminder
    db.session.flush()
    return len(lost)


def create_followup(
    household: Household,
    *,
    due_on: date,
    by: User | None,
    title: str | None = None,
    assignee: User | None = None,
    note: str | None = None,
    due_time: time | None = None,
    rule: str | None = None,
    rule_key: str | None = None,
) -> FollowUp:
    """A follow-up for ``assignee``, by default the household's guide, else its creator.
    The assignee must be someone who can see the household."""
    if assignee is not None:
        if not _sees(assignee, household):
            raise FollowUpError(_l("%(name)s cannot see this household.", name=assignee.name))
        assignee_id = assignee.id
    elif household.guide_id is not None:
        assignee_id = household.guide_id
    else:
        assignee_id = by.id if by is not None and by.role == Role.GUIDE else None
    followup = FollowUp(
        household_id=household.id,
        assignee_id=assignee_id,
        title=title or str(DEFAULT_TITLE),
        note=note,
        due_on=due_on,
        due_time=due_time,
        created_by_id=by.id if by else None,
        created_by_rule=rule,
        rule_key=rule_key,
    )
    db.session.add(followup)
    db.session.flush()
    audit(
        "followup.create",
        by=by,
        household_id=household.id,
        target=f"followup:{followup.id}",
        changes={
            "title": followup.title,
            "due_on": due_on,
            "assignee_id": assignee_id,
            "rule": rule,
        },
    )
    return followup


def complete_followup(followup: FollowUp, by: User, now: datetime | None = None) -> None:
    _audit_status(followup, FollowUpStatus.DONE, by)
    followup.status = FollowUpStatus.DONE
    followup.completed_at = now or clock.now()
    followup.completed_by_id = by.id
    db.session.flush()


def cancel_followup(followup: FollowUp, by: User, now: datetime | None = None) -> None:
    _audit_status(followup, FollowUpStatus.CANCELLED, by)
    followup.status = FollowUpStatus.CANCELLED
    followup.completed_at = now or clock.now()
    followup.completed_by_id = by.id
    db.session.flush()


def _audit_status(followup: FollowUp, to: FollowUpStatus, by: User | None) -> None:
    audit(
        "followup.update",
        by=by,
        household_id=followup.household_id,
        target=f"followup:{followup.id}",
        changes={"status": [followup.status, to]},
    )


def reschedule_followup(
    followup: FollowUp, due_on: date, due_time: time | None = None, by: User | None = None
) -> None:
    """Move the due date (a new due time means a new reminder)."""
    changes = {}
    if followup.due_on != due_on:
        changes["due_on"] = [followup.due_on, due_on]
    if followup.due_time != due_time:
        changes["due_time"] = [followup.due_time, due_time]
    if changes:
        audit(
            "followup.update",
            by=by,
            household_id=followup.household_id,
            target=f"followup:{followup.id}",
            changes=changes,
        )
    followup.due_on = due_on
    followup.due_time = due_time
    followup.reminded_for = None
    db.session.flush()


def snooze_target(option: str, today: date) -> date:
    """'tomorrow' or 'week' (next Monday) from ``today``."""
    if option == "week":
        return today + timedelta(days=7 - today.weekday())
    return today + timedelta(days=1)


def bulk_create(
    households: Select, *, due_on: date, title: str, by: User, note: str | None = None
) -> int:
    """A follow-up for each household the statement selects (at most BULK_LIMIT)."""
    count = 0
    for household in db.session.scalars(households.limit(BULK_LIMIT)):
        create_followup(household, due_on=due_on, by=by, title=title, note=note)
        count += 1
    return count


def open_followups(household: Household) -> list:
    """The household's open follow-ups, soonest first, as plain rows (id, title, note,
    due_on, due_time, assignee_name): what its page shows and acts on."""
    return db.session.connection().execute(_open_followups(), {"household_id": household.id}).all()


@lru_cache(maxsize=1)
def _open_followups() -> Select:
    """Built once: the household page runs it on every view."""
    return (
        select(
            FollowUp.id,
            FollowUp.title,
            FollowUp.note,
            FollowUp.due_on,
            FollowUp.due_time,
            User.name.label("assignee_name"),
        )
        .outerjoin(User, User.id == FollowUp.assignee_id)
        .where(
            FollowUp.household_id == bindparam("household_id"),
            FollowUp.status == FollowUpStatus.OPEN,
        )
        .order_by(FollowUp.due_on, FollowUp.due_time)
    )


@dataclass(slots=True)
class DayLine:
    """One follow-up on "my day", as plain values (what the page shows and acts on)."""

    id: int
    household_id: int
    household_name: str
    title: str
    note: str | None
    due_on: date
    due_time: time | None
    last_contact_at: datetime | None
    last_contact_summary: str | None


def _last_contact_summary():
    return (
        select(Contact.summary)
        .where(Contact.household_id == FollowUp.household_id)
        .order_by(Contact.at.desc(), Contact.id.desc())
        .limit(1)
        .correlate(FollowUp)
        .scalar_subquery()
    )


def my_day(user: User, today: date) -> dict[str, list[DayLine]]:
    """The user's open follow-ups: overdue, today, and the rest of this week (to Sunday)."""
    week_end = today + timedelta(days=6 - today.weekday())
    statement = _my_day(user.id, household_visible(user))
    day: dict[str, list[DayLine]] = {"overdue": [], "today": [], "week": []}
    for row in db.session.connection().execute(statement, {"week_end": week_end}):
        line = DayLine(*row)
        if line.due_on < today:
            section = "overdue"
        elif line.due_on == today:
            section = "today"
        else:
            section = "week"
        day[section].append(line)
    return day


@lru_cache(maxsize=256)
def _my_day(user_id: int, visible) -> Select:
    """Built once per user and scope (``visible`` is the same object while the scope holds,
    as in ``_due_counts``): building it cost as much as running it."""
    return (
        select(
            FollowUp.id,
            FollowUp.household_id,
            Household.name,
            FollowUp.title,
            FollowUp.note,
            FollowUp.due_on,
            FollowUp.due_time,
            Household.last_contact_at,
            _last_contact_summary(),
        )
        .join(Household, Household.id == FollowUp.household_id)
        .where(
            FollowUp.assignee_id == user_id,
            FollowUp.status == FollowUpStatus.OPEN,
            FollowUp.due_on <= bindparam("week_end"),
            visible,
        )
        .order_by(FollowUp.due_on, FollowUp.due_time.nulls_last(), FollowUp.id)
    )


def due_counts(user: User, today: date) -> tuple[int, int]:
    """(overdue, due today) open follow-ups of ``user``: the numbers in the navigation."""
    visible = household_visible(user)  # built once per scope: the same object while it holds
    row = db.session.connection().execute(_due_counts(user.id, visible, today)).one()
    return row[0], row[1]


@lru_cache(maxsize=256)
def _due_counts(user_id: int, visible, today: date) -> Select:
    """Built once per user, scope and day (it runs on every page; building it cost more than
    running it)."""
    # the day and the status written into the statement (``written_in``): PostgreSQL had
    # planned it anew on every page, 1.0 -> 0.36 ms at 20 000 households
    day = written_in("today", today, FollowUp.due_on.type)
    status = written_in("open", FollowUpStatus.OPEN, FollowUp.status.type)
    return (
        select(
            func.count().filter(FollowUp.due_on < day),
            func.count().filter(FollowUp.due_on == day),
        )
        .join(Household, Household.id == FollowUp.household_id)
        .where(
            FollowUp.assignee_id == user_id,
            FollowUp.status == status,
            FollowUp.due_on <= day,
            visible,
        )
    )


def overdue_by_guide(today: date) -> list[tuple[User, int, int]]:
    """Every active guide with their overdue and today's counts, for coordinators."""
    counts = (
        select(
            FollowUp.assignee_id.label("user_id"),
            func.count().filter(FollowUp.due_on < today).label("overdue"),
            func.count().filter(FollowUp.due_on == today).label("today"),
        )
        .join(Household, Household.id == FollowUp.household_id)
        .where(
            FollowUp.status == FollowUpStatus.OPEN,
            FollowUp.due_on <= today,
            household_visible_to(FollowUp.assignee_id),
        )
        .group_by(FollowUp.assignee_id)
        .subquery()
    )
    rows = db.session.execute(
        select(User, func.coalesce(counts.c.overdue, 0), func.coalesce(counts.c.today, 0))
        .outerjoin(counts, counts.c.user_id == User.id)
        .where(User.role == Role.GUIDE, User.active.is_(True))
        .order_by(func.coalesce(counts.c.overdue, 0).desc(), User.name)
    ).all()
    return [(u, o, t) for u, o, t in rows]


def unassigned_open(today: date, limit: int = 100) -> list[FollowUp]:
    """Open follow-ups nobody is assigned to (households in the regional inbox)."""
    return list(
        db.session.scalars(
            select(FollowUp)
            .where(and_(FollowUp.assignee_id.is_(None), FollowUp.status == FollowUpStatus.OPEN))
            .options(joinedload(FollowUp.household))
            .order_by(FollowUp.due_on)
            .limit(limit)
        )
    )
