"""Is the scheduler doing its work? Each job's last run and outcome, and the outbox backlog.

A job is *stale* when its last successful run is older than twice its interval (a job that
keeps failing is as bad as one that does not run), or, for the daily digest, when a working
day's digest time passed more than ``DIGEST_SLACK`` ago without a run since. A job that never
ran is judged from the moment a scheduler process first planned it (``scheduled_since``);
a job that no scheduler ever planned is stale at once: the scheduler was never started.
Everything is a function of ``now``.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from lotsen.extensions import db
from lotsen.jobs import JobLease, triggers
from lotsen.notifications.models import OutboxMessage, OutboxStatus
from lotsen.workdays import is_working_day, local_date, local_to_utc

DIGEST_SLACK = timedelta(hours=1)

JOB_LABELS = {
    "dispatch-outbox": _l("Sending e-mails"),
    "due-reminders": _l("Reminders of timed follow-ups"),
    "evaluate-rules": _l("Follow-up rules"),
    "daily-digest": _l("Daily digest"),
    "purge-unconfirmed": _l("Deleting unconfirmed interest forms"),
    "backup": _l("Nightly backup"),
    "dispose": _l("Disposal of old records"),
    "event-reminders": _l("Reminders the day before events"),
}


@dataclass
class JobHealth:
    name: str
    period: timedelta  # the time between two planned runs
    interval_job: bool  # True: every `period`; False: at fixed clock times (cron)
    last_run_at: datetime | None
    last_outcome: str | None
    last_error: str | None
    last_ok_at: datetime | None
    next_run_at: datetime | None
    stale: bool

    @property
    def label(self):
        return JOB_LABELS.get(self.name, self.name)


# A cron trigger's next two runs after the moment they were worked out: (asked at, first,
# second). The next run after any moment between "asked at" and "first" is "first" again,
# so the banner on every coordinator's page asks APScheduler only after a planned run passed.
_FIRE_TIMES: dict[int, tuple[datetime, datetime, datetime]] = {}


def _next_runs(trigger, now: datetime) -> tuple[datetime, datetime]:
    key = id(trigger)  # the triggers live as long as the process, in _PLANS
    known = _FIRE_TIMES.get(key)
    if known is not None and known[0] <= now <= known[1]:
        return known[1], known[2]
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    _FIRE_TIMES[key] = (now, first, second)
    return first, second


def _last_digest_due(config, now: datetime) -> datetime | None:
    """The latest working day's digest time that lies more than DIGEST_SLACK before now."""
    hour, minute = (int(x) for x in config["SCHEDULER_DIGEST_TIME"].split(":"))
    day = local_date(now)
    for _ in range(14):
        if is_working_day(day):
            at = local_to_utc(day, datetime.min.time().replace(hour=hour, minute=minute))
            if at + DIGEST_SLACK <= now:
                return at
        day -= timedelta(days=1)
    return None


# The planned triggers for each set of the scheduler's settings: building them parses every
# cron field, and the banner asks on every page of a coordinator. (Only read here: an interval
# trigger's start time is of no use to the health figures.)
_PLANS: dict[tuple, dict] = {}
PLAN_SETTINGS = ("SCHEDULER_", "BACKUP_", "JOBTECH_")


def _planned(config) -> dict:
    key = tuple((k, str(v)) for k, v in config.items() if k.startswith(PLAN_SETTINGS))
    if key not in _PLANS:
        _PLANS[key] = triggers(config)
    return _PLANS[key]


# What the health figures read of each job's record, as plain rows (coordinators' pages ask
# on every request).
LEASES = select(
    JobLease.name,
    JobLease.last_run_at,
    JobLease.last_outcome,
    JobLease.last_error,
    JobLease.last_ok_at,
    JobLease.scheduled_since,
)


def job_health(config, now: datetime) -> list[JobHealth]:
    """Every planned job (as the scheduler process would plan it with this configuration)."""
    rows = {row.name: row for row in db.session.connection().execute(LEASES)}
    result = []
    for name, trigger in _planned(config).items():
        row = rows.get(name)
        last_run = row.last_run_at if row else None
        last_ok = row.last_ok_at if row else None
        reference = last_ok or (row.scheduled_since if row else None)
        if isinstance(trigger, IntervalTrigger):
            period = trigger.interval
            next_run = (last_run or reference or now) + period
        else:
            next_run, after = _next_runs(trigger, now)
            period = after - next_run
        stale = reference is None or now - reference > 2 * period
        if name == "daily-digest" and not stale:
            due = _last_digest_due(config, now)
            stale = due is not None and reference < due
        result.append(
            JobHealth(
                name=name,
                period=period,
                interval_job=isinstance(trigger, IntervalTrigger),
                last_run_at=last_run,
                last_outcome=row.last_outcome if row else None,
                last_error=row.last_error if row else None,
                last_ok_at=last_ok,
                next_run_at=next_run,
                stale=stale,
            )
        )
    return result


def stale_jobs(config, now: datetime) -> list[JobHealth]:
    return [j for j in job_health(config, now) if j.stale]


def stale_since(stale: list[JobHealth]) -> datetime | None:
    """Since when work is missing: the oldest last success (None: some job never ran)."""
    moments = [j.last_ok_at for j in stale]
    return None if None in moments else min(moments)


def outbox_backlog(now: datetime) -> dict:
    """Pending (and claimed) e-mails, failed ones, and how long the oldest has waited."""
    waiting = OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.CLAIMED])
    pending, failed, oldest = db.session.execute(
        select(
            func.count(case((waiting, 1))),
            func.count(case((OutboxMessage.status == OutboxStatus.FAILED, 1))),
            func.min(case((waiting, OutboxMessage.created_at))),
        )
    ).one()
    return {
        "pending": pending,
        "failed": failed,
        "oldest_pending_age": now - oldest if oldest is not None else None,
    }
