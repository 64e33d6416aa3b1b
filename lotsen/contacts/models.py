import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotsen.accounts.models import User
from lotsen.db import UTCDateTime, utcnow
from lotsen.extensions import db
from lotsen.households.models import str_enum


class Channel(enum.StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    VIDEO = "video"
    MEETING = "meeting"
    VISIT = "visit"
    FAIR = "fair"
    EVENT = "event"
    MESSAGE = "message"


class Direction(enum.StrEnum):
    OUTGOING = "out"
    INCOMING = "in"


CHANNEL_LABELS = {
    Channel.PHONE: _l("Phone"),
    Channel.EMAIL: _l("E-mail"),
    Channel.VIDEO: _l("Video call"),
    Channel.MEETING: _l("Meeting"),
    Channel.VISIT: _l("Visit"),
    Channel.FAIR: _l("Fair"),
    Channel.EVENT: _l("Event"),
    Channel.MESSAGE: _l("Text message / chat"),
}
DIRECTION_LABELS = {
    Direction.OUTGOING: _l("We contacted them"),
    Direction.INCOMING: _l("They contacted us"),
}


class Contact(db.Model):
    """One contact with a household: a call, an e-mail, a meeting..."""

    __tablename__ = "contact"
    __table_args__ = (Index("ix_contact_household_at", "household_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction))
    summary: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Contact {self.id} {self.household_id} {self.channel}>"
