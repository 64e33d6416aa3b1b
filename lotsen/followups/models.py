import enum
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String, Time, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotsen.accounts.models import User
from lotsen.db import UTCDateTime, utcnow
from lotsen.extensions import db
from lotsen.households.models import Household, str_enum


class FollowUpStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class FollowUp(db.Model):
    """A task on a household: "call them after the fair", made by a person or a rule."""

    __tablename__ = "follow_up"
    __table_args__ = (
        Index("ix_follow_up_assignee_status_due", "assignee_id", "status", "due_on"),
        Index("ix_follow_up_household_status", "household_id", "status"),
        Index("ix_follow_up_status_due", "status", "due_on"),
        # A rule never makes a second open follow-up for the same reason and household,
        # however many scheduler processes evaluate it at once.
        Index(
            "uq_follow_up_open_rule",
            "household_id",
            "rule_key",
            unique=True,
            sqlite_where=text("status = 'open' AND rule_key IS NOT NULL"),
            postgresql_where=text("status = 'open' AND rule_key IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id", ondelete="CASCADE"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(1000))
    due_on: Mapped[date] = mapped_column(Date)
    due_time: Mapped[time | None] = mapped_column(Time)
    status: Mapped[FollowUpStatus] = mapped_column(
        str_enum(FollowUpStatus), default=FollowUpStatus.OPEN
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_by_rule: Mapped[str | None] = mapped_column(String(40))
    rule_key: Mapped[str | None] = mapped_column(String(60))  # e.g. "before_move:2027-06-01"
    # The due moment a reminder was queued for ("2026-11-26T09:00"); cleared on reschedule.
    reminded_for: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    household: Mapped[Household] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])

    def __repr__(self) -> str:
        return f"<FollowUp {self.id} {self.household_id} {self.due_on} {self.status}>"


class RuleSetting(db.Model):
    """A follow-up rule's switch and parameters, as a coordinator set them."""

    __tablename__ = "rule_setting"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    def __repr__(self) -> str:
        return f"<RuleSetting {self.name} {self.enabled} {self.params}>"
