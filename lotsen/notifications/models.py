import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lotsen.db import UTCDateTime, utcnow
from lotsen.extensions import db
from lotsen.households.models import str_enum


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    CLAIMED = "claimed"  # a sender took it; the claim expires at claimed_until
    SENT = "sent"
    FAILED = "failed"  # gave up after MAX_ATTEMPTS; shown to admins


class OutboxMessage(db.Model):
    """One e-mail to send. ``dedup_key`` is unique: whoever enqueues the same message twice
    (two schedulers, a re-run job) gets one row, so one e-mail."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # Extra MIME parts, [{"filename", "content_type", "content"}] (text, e.g. an .ics), and
    # extra headers, {"List-Unsubscribe": "..."}; None for a plain mail.
    attachments: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    headers: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.dedup_key} {self.status}>"
