"""The weekly regional summary for coordinators: on the first Swedish working day of each
week (Monday, or Tuesday after Easter Monday...) at 07:00, through the outbox."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from lotsen.accounts.models import Role, User
from lotsen.extensions import db
from lotsen.households.models import StageChange
from lotsen.households.vocab import Stage, label
from lotsen.jobs import job
from lotsen.mail import compose_mail, send_mails
from lotsen.notifications.services import Mail
from lotsen.pipeline.figures import MovedIn, Scope, moved_by_municipality, new_per_month, workload
from lotsen.pipeline.history import period_bounds
from lotsen.workdays import is_working_day, local_date


@dataclass
class WeekFigures:
    since: date
    until: date
    new: int
    moves: list[tuple[Stage, int]]
    moved_in: MovedIn
    overdue: list[tuple[str, int, int]]  # guide name, overdue follow-ups, guide id


def first_working_day_of_week(day: date) -> date | None:
    monday = day - timedelta(days=day.weekday())
    return next(
        (monday + timedelta(d) for d in range(5) if is_working_day(monday + timedelta(d))), None
    )


def week_figures(viewer: User, since: date, until: date, now: datetime) -> WeekFigures:
    scope = Scope(viewer, since, until)
    start, end = period_bounds(since, until)
    moves = db.session.execute(
        select(StageChange.to_stage, func.count())
        .where(StageChange.from_stage.is_not(None), StageChange.at >= start, StageChange.at < end)
        .group_by(StageChange.to_stage)
    ).all()
    order = list(Stage)
    return WeekFigures(
        since=since,
        until=until,
        new=sum(n for _, n in new_per_month(scope)),
        moves=sorted(((Stage(s), n) for s, n in moves), key=lambda m: order.index(m[0])),
        moved_in=moved_by_municipality(scope).get(None, MovedIn()),
        overdue=[(w.name, w.overdue, w.guide_id) for w in workload(scope, now) if w.overdue],
    )


def compose_weekly_summary(user: User, w: WeekFigures) -> Mail:
    """The e-mail for one coordinator."""
    year, week, _day = w.since.isocalendar()
    return compose_mail(
        "weekly_summary",
        to=user.email,
        locale=user.locale,
        key=f"weekly:{user.id}:{year}-W{week:02d}",
        user_id=user.id,
        user=user,
        w=w,
        since=w.since.isoformat(),
        until=w.until.isoformat(),
        label=label,
    )


@job("weekly-summary")
def weekly_summary(now: datetime) -> int:
    """Queue the summary of last week (Monday to Sunday) for every active coordinator.
    Keyed by user and week: a repeated or late run sends nothing twice."""
    today = local_date(now)
    if first_working_day_of_week(today) != today:
        return 0
    coordinators = list(
        db.session.scalars(
            select(User).where(
                User.role == Role.COORDINATOR, User.active.is_(True), User.notify_digest.is_(True)
            )
        )
    )
    if not coordinators:
        return 0
    monday = today - timedelta(days=today.weekday())
    figures = week_figures(coordinators[0], monday - timedelta(7), monday - timedelta(1), now)
    return send_mails((compose_weekly_summary(u, figures) for u in coordinators), now)
