"""The weekly regional summary for coordinators: on the first Swedish working day of each
week (Monday, or Tuesday after Easter Monday...) at 07:00, through the outbox."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from lotsen.accounts.models import Role, User
from lotsen.extensions import db
from lotsen.households.models import StageChange
from lotsen.households.vocab import Stage, label
from lotsen.jobs import job
from lotsen.notifications.services import Mail, enqueue_many
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


def _url(path: str, **args) -> str:
    base = current_app.config["BASE_URL"].rstrip("/")
    query = urlencode({k: v for k, v in args.items() if v is not None})
    return f"{base}{path}" + (f"?{query}" if query else "")


def compose_weekly_summary(user: User, w: WeekFigures) -> Mail:
    """The e-mail for one coordinator (one small function: the common mail helper can take
    it over)."""
    period = {"since": w.since.isoformat(), "until": w.until.isoformat()}
    with force_locale(user.locale):
        # the template alone: the pages' context processors need a request
        body = current_app.jinja_env.get_template("email/weekly_summary.txt").render(
            user=user,
            w=w,
            label=label,
            dashboard=_url("/pipeline", **period),
            new_url=_url("/households", reached="new", **period),
            moved_url=_url("/households", reached="moved_in", **period),
            overdue_url=lambda guide_id: _url("/households", overdue=guide_id),
        )
        subject = _(
            "Lotsen week %(week)s: %(new)d new interests, %(moved)d households moved in",
            week=str(w.since.isocalendar().week),
            new=w.new,
            moved=w.moved_in.households,
        )
    year, week, _day = w.since.isocalendar()
    return Mail(
        key=f"weekly:{user.id}:{year}-W{week:02d}",
        kind="weekly_summary",
        to=user.email,
        subject=subject,
        body=body,
        user_id=user.id,
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
    return enqueue_many([compose_weekly_summary(u, figures) for u in coordinators], now)
