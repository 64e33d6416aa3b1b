"""Scheduled jobs: a registry of plain functions, each run under a database lease.

A job is a function ``job(now)`` that does its work through services and flushes; ``run``
wraps it in an app context, a lease and one commit. The lease (a row per job, taken with a
conditional UPDATE that only one process can win) keeps a second scheduler started by
mistake from running the same job at the same time; whatever the job writes is idempotent
besides (unique keys), so a job re-run after a crash does no harm.
"""

import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import String, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from lotsen import clock
from lotsen.db import UTCDateTime
from lotsen.extensions import db
from lotsen.workdays import STOCKHOLM

log = logging.getLogger(__name__)
JOBS: dict[str, tuple[Callable[[datetime], object], bool]] = {}
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


class JobLease(db.Model):
    __tablename__ = "job_lease"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(100))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_outcome: Mapped[str | None] = mapped_column(String(10))  # "ok" or "error"
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # when a scheduler process first planned this job: "never ran" is judged from here
    scheduled_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<JobLease {self.name} {self.holder} {self.expires_at}>"


def job(name: str, exclusive: bool = True):
    """Register ``fn(now)`` as the job ``name``. An exclusive job runs in one process at a
    time (the lease); a job whose own work is safe to share (sending the outbox, whose rows
    are claimed one by one) is not exclusive, so a killed process cannot hold it up."""

    def register(fn):
        JOBS[name] = (fn, exclusive)
        return fn

    return register


def triggers(config) -> dict[str, object]:
    """When each job runs. Here, apart from the scheduler process (lotsen/scheduler.py), because
    web workers read it too (the stale-jobs banner, /healthz) and need not load what running
    the jobs takes (the scheduler, its process pool, every job's module)."""
    hour, minute = (int(x) for x in config["SCHEDULER_DIGEST_TIME"].split(":"))
    planned = {
        "dispatch-outbox": IntervalTrigger(seconds=config["SCHEDULER_OUTBOX_SECONDS"]),
        "due-reminders": IntervalTrigger(seconds=config["SCHEDULER_REMINDER_SECONDS"]),
        "evaluate-rules": IntervalTrigger(minutes=config["SCHEDULER_RULES_MINUTES"]),
        "daily-digest": CronTrigger(hour=hour, minute=minute, timezone=STOCKHOLM),
        "purge-unconfirmed": CronTrigger(minute=17, timezone=STOCKHOLM),  # hourly
        "dispose": CronTrigger(  # nightly disposal rules (gallring)
            hour=int(config["SCHEDULER_DISPOSAL_TIME"].split(":")[0]),
            minute=int(config["SCHEDULER_DISPOSAL_TIME"].split(":")[1]),
            timezone=STOCKHOLM,
        ),
        "event-reminders": CronTrigger(  # the day before an event, at a fixed Swedish time
            hour=int(config["SCHEDULER_EVENT_REMINDER_TIME"].split(":")[0]),
            minute=int(config["SCHEDULER_EVENT_REMINDER_TIME"].split(":")[1]),
            timezone=STOCKHOLM,
        ),
        # every weekday; the job itself sends only on the week's first working day
        "weekly-summary": CronTrigger(
            day_of_week="mon-fri", hour=hour, minute=minute, timezone=STOCKHOLM
        ),
    }
    if config.get("BACKUP_DIR"):
        b_hour, b_minute = (int(x) for x in config.get("BACKUP_TIME", "02:30").split(":"))
        planned["backup"] = CronTrigger(hour=b_hour, minute=b_minute, timezone=STOCKHOLM)
    if config.get("JOBTECH_SOURCE_URL"):  # nightly job ads, only when a source is set
        h, m = (int(x) for x in config["SCHEDULER_JOBTECH_TIME"].split(":"))
        planned["import-jobtech"] = CronTrigger(hour=h, minute=m, timezone=STOCKHOLM)
    return planned


def _ensure_row(name: str) -> None:
    try:
        with db.session.begin_nested():
            db.session.execute(insert(JobLease).values(name=name))
    except IntegrityError:
        pass  # the row is there already


def _take_lease(name: str, now: datetime, ttl: timedelta) -> bool:
    _ensure_row(name)
    taken = db.session.execute(
        update(JobLease)
        .where(
            JobLease.name == name,
            or_(
                JobLease.expires_at.is_(None),
                JobLease.expires_at < now,
                JobLease.holder == WORKER_ID,
            ),
        )
        .values(holder=WORKER_ID, expires_at=now + ttl)
        .returning(JobLease.name)
    ).first()
    db.session.commit()
    return taken is not None


def _finish(name: str, now: datetime, exclusive: bool, error: str | None) -> None:
    """Release the lease (exclusive jobs) and record the run's outcome for the health page."""
    _ensure_row(name)
    values = {
        "last_run_at": now,
        "last_outcome": "error" if error else "ok",
        "last_error": error[:500] if error else None,
    }
    if error is None:
        values["last_ok_at"] = now
    query = update(JobLease).where(JobLease.name == name)
    if exclusive:
        query = query.where(JobLease.holder == WORKER_ID)
        values |= {"holder": None, "expires_at": None}
    db.session.execute(query.values(**values))
    db.session.commit()


def mark_scheduled(names, now: datetime) -> None:
    """A scheduler process starts: remember since when each job is planned (first time only)."""
    for name in names:
        _ensure_row(name)
    db.session.execute(
        update(JobLease)
        .where(JobLease.name.in_(list(names)), JobLease.scheduled_since.is_(None))
        .values(scheduled_since=now)
    )
    db.session.commit()


def run(name: str, now: datetime | None = None, lease: timedelta = timedelta(minutes=10)):
    """Run job ``name`` once (in the current app context); returns its result, or None when
    another process holds the job's lease."""
    fn, exclusive = JOBS[name]
    now = now or clock.now()
    if exclusive and not _take_lease(name, now, lease):
        log.info("job %s: another process holds the lease; skipped", name)
        return None
    error = None
    try:
        result = fn(now)
        db.session.commit()
        return result
    except Exception as exc:
        db.session.rollback()
        log.exception("job %s failed", name)
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        try:
            _finish(name, now, exclusive, error)
        except Exception:  # noqa: BLE001 - the job's own outcome (or error) matters more
            db.session.rollback()
            log.exception("job %s: its outcome could not be recorded", name)
