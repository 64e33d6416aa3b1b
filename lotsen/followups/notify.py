"""The follow-up e-mails: a reminder when a timed follow-up falls due, and the daily digest
at 07:00 on Swedish working days. Both go through the outbox with deduplication keys."""

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from lotsen.access import household_visible_to
from lotsen.accounts.models import User
from lotsen.extensions import db
from lotsen.followups.models import FollowUp, FollowUpStatus
from lotsen.households.models import Household
from lotsen.jobs import job
from lotsen.mail import compose_mail, send_mails
from lotsen.workdays import is_working_day, local_date, local_to_utc

DIGEST_MAX_LINES = 50


def _stamp(f: FollowUp) -> str:
    return f"{f.due_on.isoformat()}T{f.due_time:%H:%M}"


@job("due-reminders")
def due_reminders(now: datetime) -> int:
    """Queue a reminder for every timed follow-up that has fallen due (once per due time)."""
    today = local_date(now)
    candidates = db.session.scalars(
        select(FollowUp)
        .join(Household, Household.id == FollowUp.household_id)
        .where(
            FollowUp.status == FollowUpStatus.OPEN,
            FollowUp.due_on.between(today - timedelta(days=1), today),
            FollowUp.due_time.is_not(None),
            FollowUp.reminded_for.is_(None),
            FollowUp.assignee_id.is_not(None),
            household_visible_to(FollowUp.assignee_id),
        )
        .options(joinedload(FollowUp.assignee), joinedload(FollowUp.household))
    )
    due = [f for f in candidates if local_to_utc(f.due_on, f.due_time) <= now]
    by_stamp: dict[str, list[int]] = defaultdict(list)
    by_user: dict[User, list[FollowUp]] = defaultdict(list)
    for f in due:
        by_stamp[_stamp(f)].append(f.id)
        if f.assignee.active and f.assignee.notify_reminders:
            by_user[f.assignee].append(f)
    mails = [
        compose_mail(
            "reminder",
            to=user.email,
            locale=user.locale,
            key=f"reminder:{f.id}:{_stamp(f)}",
            user_id=user.id,
            user=user,
            followup=f,
        )
        for user, followups in by_user.items()
        for f in followups
    ]
    for stamp, ids in by_stamp.items():  # a rescheduled follow-up gets a new stamp
        db.session.execute(
            update(FollowUp)
            .where(FollowUp.id.in_(ids))
            .values(reminded_for=stamp)
            .execution_options(synchronize_session=False)
        )
    return send_mails(mails, now)


@job("daily-digest")
def daily_digest(now: datetime) -> int:
    """Queue each user's digest of overdue and today's follow-ups, on working days only.

    Keyed by user and local date: a late, repeated or doubled run (downtime, two schedulers,
    the autumn DST hour) still gives one digest a day.
    """
    today = local_date(now)
    if not is_working_day(today):
        return 0
    rows = db.session.scalars(
        select(FollowUp)
        .join(User, User.id == FollowUp.assignee_id)
        .join(Household, Household.id == FollowUp.household_id)
        .where(
            FollowUp.status == FollowUpStatus.OPEN,
            FollowUp.due_on <= today,
            User.active.is_(True),
            User.notify_digest.is_(True),
            household_visible_to(FollowUp.assignee_id),
        )
        .options(joinedload(FollowUp.assignee), joinedload(FollowUp.household))
        .order_by(FollowUp.assignee_id, FollowUp.due_on, FollowUp.due_time, FollowUp.id)
    )
    per_user: dict[User, dict[str, list[FollowUp]]] = defaultdict(
        lambda: {"overdue": [], "today": []}
    )
    for f in rows:
        per_user[f.assignee]["overdue" if f.due_on < today else "today"].append(f)
    mails = [
        compose_mail(
            "digest",
            to=user.email,
            locale=user.locale,
            key=f"digest:{user.id}:{today.isoformat()}",
            user_id=user.id,
            user=user,
            day=today,
            overdue=sections["overdue"],
            due_today=sections["today"],
            max_lines=DIGEST_MAX_LINES,
        )
        for user, sections in per_user.items()
    ]
    return send_mails(mails, now)
