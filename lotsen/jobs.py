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

from sqlalchemy import String, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from lotsen import clock
from lotsen.db import UTCDateTime
from lotsen.extensions import db

log = logging.getLogger(__name__)
JOBS: dict[str, tuple[Callable[[datetime], object], bool]] = {}
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


class JobLease(db.Model):
    __tablename__ = "job_lease"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(100))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

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


def _take_lease(name: str, now: datetime, ttl: timedelta) -> bool:
    try:
        with db.session.begin_nested():
            db.session.execute(insert(JobLease).values(name=name))
    except IntegrityError:
        pass  # the row is there already
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


def _release_lease(name: str, now: datetime) -> None:
    db.session.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.holder == WORKER_ID)
        .values(holder=None, expires_at=None, last_run_at=now)
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
    try:
        result = fn(now)
        db.session.commit()
        return result
    except Exception:
        db.session.rollback()
        log.exception("job %s failed", name)
        raise
    finally:
        if exclusive:
            _release_lease(name, now)
