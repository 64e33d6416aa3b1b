import enum
from datetime import date, datetime, time

from sqlalchemy import Date, ForeignKey, Index, String, Time
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    household: Mapped[Household] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])

    def __repr__(self) -> str:
        return f"<FollowUp {self.id} {self.household_id} {self.due_on} {self.status}>"
