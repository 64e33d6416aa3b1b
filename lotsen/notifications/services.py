"""Enqueue e-mails in the outbox and send them over SMTP.

Sending follows the outbox pattern: claim a few due rows in a short transaction (on
PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so concurrent senders take different rows;
SQLite's write lock serialises the claim), commit, then talk SMTP with no lock held, and
record each outcome in its own short transaction. A sender killed mid-run leaves its rows
claimed until ``claimed_until``; then any sender takes them again.
"""

import logging
import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lotsen.extensions import db
from lotsen.jobs import WORKER_ID, job
from lotsen.notifications.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
BACKOFF = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600)  # seconds after attempt n


def enqueue(
    *, key: str, kind: str, to: str, subject: str, body: str, now: datetime, user_id=None
) -> bool:
    """Add an e-mail unless one with the same key exists; True when it was added."""
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(OutboxMessage)
        .values(
            dedup_key=key,
            kind=kind,
            user_id=user_id,
            to_address=to,
            subject=subject[:300],
            body=body,
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(OutboxMessage.id)
    )
    return db.session.execute(stmt).first() is not None


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF[min(attempts, len(BACKOFF)) - 1])


def claim(now: datetime, limit: int) -> list[OutboxMessage]:
    """Take up to ``limit`` due messages for this process and commit the claim."""
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
    db.session.commit()
    if not ids:
        return []
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))))


def _email(message: OutboxMessage) -> EmailMessage:
    cfg = current_app.config
    email = EmailMessage()
    email["From"] = cfg["MAIL_FROM"]
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    # The same message always has the same id, so a mail client shows a resent copy once.
    domain = cfg["MAIL_FROM"].rpartition("@")[2].strip("> ") or "lotsen.local"
    email["Message-ID"] = f"<lotsen-outbox-{message.id}@{domain}>"
    email["X-Lotsen-Key"] = message.dedup_key
    email.set_content(message.body)
    return email


def smtp_connection() -> smtplib.SMTP:
    cfg = current_app.config
    timeout = cfg["MAIL_TIMEOUT"]
    if cfg["MAIL_USE_SSL"]:
        conn = smtplib.SMTP_SSL(
            cfg["MAIL_SERVER"],
            cfg["MAIL_PORT"],
            timeout=timeout,
            context=ssl.create_default_context(),
        )
    else:
        conn = smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=timeout)
        if cfg["MAIL_USE_TLS"]:
            conn.starttls(context=ssl.create_default_context())
    if cfg["MAIL_USERNAME"]:
        conn.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
    return conn


def _record(message_id: int, now: datetime, error: str | None) -> None:
    message = db.session.get(OutboxMessage, message_id)
    if error is None:
        message.status = OutboxStatus.SENT
        message.sent_at = now
        message.last_error = None
    else:
        message.attempts += 1
        message.last_error = error[:500]
        if message.attempts >= MAX_ATTEMPTS:
            message.status = OutboxStatus.FAILED
        else:
            message.status = OutboxStatus.PENDING
            message.next_attempt_at = now + backoff(message.attempts)
    message.claimed_until = None
    message.claimed_by = None
    db.session.commit()


@job("dispatch-outbox", exclusive=False)
def dispatch_outbox(now: datetime, batch: int = 100) -> dict:
    """Send what is due; returns counts. Runs until nothing is due or SMTP is down."""
    sent = failed = 0
    while messages := claim(now, batch):
        try:
            conn = smtp_connection()
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("SMTP unreachable: %s", exc)
            for m in messages:
                _record(m.id, now, f"SMTP unreachable: {exc}")
            return {"sent": sent, "failed": failed + len(messages)}
        try:
            for m in messages:
                try:
                    conn.send_message(_email(m))
                except (OSError, smtplib.SMTPException) as exc:
                    _record(m.id, now, str(exc))
                    failed += 1
                else:
                    _record(m.id, now, None)
                    sent += 1
        finally:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
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
