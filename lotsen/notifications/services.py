"""Enqueue e-mails in the outbox and send them over SMTP.

Sending follows the outbox pattern: claim a few due rows in a short transaction (on
PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so concurrent senders take different rows;
SQLite's write lock serialises the claim), commit, then talk SMTP with no lock held, and
record each outcome in its own short transaction. A sender killed mid-run leaves its rows
claimed until ``claimed_until``; then any sender takes them again.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from flask import current_app
from sqlalchemy import Row, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lotsen.accounts.models import User
from lotsen.extensions import db
from lotsen.jobs import WORKER_ID, job
from lotsen.notifications.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
BACKOFF = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600)  # seconds after attempt n


@dataclass
class Mail:
    key: str  # the deduplication key: the same key is never sent twice
    kind: str
    to: str
    subject: str
    body: str
    user_id: int | None = None
    # text parts sent after the body: {"filename", "content_type", "content"}
    attachments: list[dict] | None = None
    headers: dict[str, str] | None = None  # extra headers, e.g. List-Unsubscribe

    def __post_init__(self):
        for name, value in (self.headers or {}).items():
            if any(c in f"{name}{value}" for c in "\r\n") or ":" in name:
                raise ValueError(f"header {name!r}: no line breaks or colons in names")


def enqueue_many(mails: list[Mail], now: datetime) -> int:
    """Add the e-mails whose keys are new; returns how many were added."""
    if not mails:
        return 0
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    table = OutboxMessage.__table__
    stmt = insert(table).on_conflict_do_nothing(index_elements=["dedup_key"]).returning(table.c.id)
    rows = [
        {
            "dedup_key": m.key,
            "kind": m.kind,
            "user_id": m.user_id,
            "to_address": m.to,
            "subject": m.subject[:300],
            "body": m.body,
            "attachments": m.attachments or None,
            "headers": m.headers or None,
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "claimed_until": None,
            "claimed_by": None,
            "last_error": None,
            "sent_at": None,
        }
        for m in mails
    ]
    # executemany: compiled once, sent in batches ("insertmanyvalues"), ids of new rows back
    return len(db.session.execute(stmt, rows).all())


def enqueue(mail: Mail, now: datetime) -> bool:
    """Add an e-mail unless one with the same key exists; True when it was added."""
    return enqueue_many([mail], now) == 1


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF[min(attempts, len(BACKOFF)) - 1])


def claim(now: datetime, limit: int) -> list[Row]:
    """Take up to ``limit`` due messages for this process and commit the claim. Returns plain
    rows, not ORM objects: a session full of objects would make every later commit slower."""
    lease = timedelta(seconds=current_app.config["OUTBOX_CLAIM_SECONDS"])
    due = (
        select(OutboxMessage.id)
        .where(
            or_(
                (OutboxMessage.status == OutboxStatus.PENDING)
                & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == OutboxStatus.CLAIMED)
                & (OutboxMessage.claimed_until < now),
            )
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(due))
    if ids:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(status=OutboxStatus.CLAIMED, claimed_until=now + lease, claimed_by=WORKER_ID)
        )
    rows = []
    if ids:
        table = OutboxMessage.__table__
        rows = list(
            db.session.execute(
                select(table, User.name.label("to_name"))
                .outerjoin(User, User.id == table.c.user_id)
                .where(table.c.id.in_(ids))
                .order_by(table.c.next_attempt_at, table.c.id)  # sent in the order queued
            )
        )
    db.session.commit()
    return rows


def _record(message: Row, now: datetime, error: str | None) -> None:
    """Store one attempt's outcome in its own short transaction."""
    values = {"claimed_until": None, "claimed_by": None}
    if error is None:
        values |= {"status": OutboxStatus.SENT, "sent_at": now, "last_error": None}
    else:
        attempts = message.attempts + 1
        values |= {"attempts": attempts, "last_error": error[:500]}
        if attempts >= MAX_ATTEMPTS:
            values["status"] = OutboxStatus.FAILED
        else:
            values |= {"status": OutboxStatus.PENDING, "next_attempt_at": now + backoff(attempts)}
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


@job("dispatch-outbox", exclusive=False)
def dispatch_outbox(now: datetime) -> dict:
    """Send what is due; returns counts. Runs until nothing is due or SMTP is down.

    ``now`` is when the run started; a long run claims each batch at the time that has
    passed since, so a claim made ten minutes into the run holds for its full
    ``OUTBOX_CLAIM_SECONDS`` and no other sender takes the message meanwhile."""
    # Only the scheduler process sends: web workers do not load smtplib and email.mime.
    from smtplib import SMTPException

    from lotsen.notifications.wire import email_bytes, smtp_connection

    batch = current_app.config["OUTBOX_BATCH"]
    started = time.monotonic()

    def at() -> datetime:
        return now + timedelta(seconds=time.monotonic() - started)

    sent = failed = 0
    while messages := claim(at(), batch):
        try:
            conn = smtp_connection()
        except (OSError, SMTPException) as exc:
            log.warning("SMTP unreachable: %s", exc)
            for m in messages:
                _record(m, now, f"SMTP unreachable: {exc}")
            return {"sent": sent, "failed": failed + len(messages)}
        try:
            sender = parseaddr(current_app.config["MAIL_FROM"])[1]
            for m in messages:
                try:
                    conn.sendmail(sender, [m.to_address], email_bytes(m))
                except (OSError, SMTPException) as exc:
                    _record(m, now, str(exc))
                    failed += 1
                else:
                    _record(m, now, None)
                    sent += 1
        finally:
            try:
                conn.quit()
            except (OSError, SMTPException):
                conn.close()
    return {"sent": sent, "failed": failed}


def outbox_problems(limit: int = 200) -> list[OutboxMessage]:
    """Failed messages and those waiting for a retry, for the admins' page."""
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(
                or_(
                    OutboxMessage.status == OutboxStatus.FAILED,
                    (OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.attempts > 0),
                )
            )
            .order_by(OutboxMessage.created_at.desc())
            .limit(limit)
        )
    )


def retry_now(message: OutboxMessage, now: datetime) -> None:
    message.status = OutboxStatus.PENDING
    message.next_attempt_at = now
    message.attempts = min(message.attempts, MAX_ATTEMPTS - 1)
    db.session.flush()


def outbox_counts() -> dict[str, int]:
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    return {str(status): n for status, n in rows}
