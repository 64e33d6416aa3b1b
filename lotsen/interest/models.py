from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lotsen.db import UTCDateTime, utcnow
from lotsen.extensions import db
from lotsen.households.models import str_enum
from lotsen.households.vocab import InterestStatus


class InterestSubmission(db.Model):
    """What a visitor sent through the public form. It reaches the guides only once the
    visitor confirms their e-mail address; unconfirmed ones are deleted after 7 days. A
    confirmed one stays as the record of the consent (text version, when, how)."""

    __tablename__ = "interest_submission"
    __table_args__ = (Index("ix_interest_submission_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[InterestStatus] = mapped_column(
        str_enum(InterestStatus, length=12), default=InterestStatus.PENDING
    )
    nonce: Mapped[str] = mapped_column(String(32))  # part of the signed confirmation link
    locale: Mapped[str] = mapped_column(String(5))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    privacy_version: Mapped[str] = mapped_column(String(20))
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    household_id: Mapped[int | None] = mapped_column(
        ForeignKey("household.id", ondelete="SET NULL")
    )
    # Set when sent through an event's public sign-up page: confirming signs up for it.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))

    def __repr__(self) -> str:
        return f"<InterestSubmission {self.id} {self.status} {self.email}>"
