from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotsen.accounts.models import User
from lotsen.db import UTCDateTime, utcnow
from lotsen.events.vocab import EventStatus, EventType, SignupChannel, SignupStatus
from lotsen.extensions import db
from lotsen.households.models import Household, str_enum
from lotsen.regions.models import Municipality

event_municipality = Table(
    "event_municipality",
    db.metadata,
    Column("event_id", ForeignKey("event.id", ondelete="CASCADE"), primary_key=True),
    Column("municipality_code", ForeignKey("municipality.code"), primary_key=True, index=True),
)

event_staff = Table(
    "event_staff",
    db.metadata,
    Column("event_id", ForeignKey("event.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Event(db.Model):
    """A fair, webinar, visit trip or open house where people meet Move Up North."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_starts_at", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)  # /events/<slug>
    name: Mapped[str] = mapped_column(String(160))
    kind: Mapped[EventType] = mapped_column(str_enum(EventType))
    status: Mapped[EventStatus] = mapped_column(str_enum(EventStatus), default=EventStatus.PLANNED)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    online_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int | None] = mapped_column(Integer)  # None: no limit
    # Public description per language: {"sv": "...", "en": "...", "de": "...", "nl": "..."}
    descriptions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    cost_sek: Mapped[int | None] = mapped_column(Integer)  # for cost per lead / per move-in
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    municipalities: Mapped[list[Municipality]] = relationship(
        secondary=event_municipality, order_by=Municipality.name
    )
    staff: Mapped[list[User]] = relationship(secondary=event_staff, order_by=User.name)

    @property
    def municipality_codes(self) -> set[str]:
        return {m.code for m in self.municipalities}

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.slug!r} {self.status}>"


def held_in(code: str):
    """SQL condition: the event is held for municipality ``code`` (one of its municipalities)."""
    return Event.id.in_(
        select(event_municipality.c.event_id).where(event_municipality.c.municipality_code == code)
    )


class EventSignup(db.Model):
    """A household's place at an event (or on its waiting list), and whether it came."""

    __tablename__ = "event_signup"
    __table_args__ = (
        UniqueConstraint("event_id", "household_id"),
        Index("ix_event_signup_event_status", "event_id", "status", "created_at"),
        Index("ix_event_signup_household", "household_id", "event_id"),
        # the outcome figures: sign-ups per event and status with their households, covering
        Index("ix_event_signup_outcomes", "event_id", "status", "household_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id", ondelete="CASCADE"))
    status: Mapped[SignupStatus] = mapped_column(str_enum(SignupStatus))
    channel: Mapped[SignupChannel] = mapped_column(str_enum(SignupChannel))
    people: Mapped[int] = mapped_column(Integer, default=1)  # places taken
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()
    household: Mapped[Household] = relationship()

    def __repr__(self) -> str:
        return f"<EventSignup {self.event_id} {self.household_id} {self.status}>"


class LeadCapture(db.Model):
    """One lead captured at the stand. ``client_key`` is made by the capturing browser, so a
    capture sent twice (the network came back mid-request) is stored once."""

    __tablename__ = "lead_capture"
    # the outcome figures: an event's captured households, covering
    __table_args__ = (Index("ix_lead_capture_event_household", "event_id", "household_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_key: Mapped[str] = mapped_column(String(64), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    household_id: Mapped[int | None] = mapped_column(
        ForeignKey("household.id", ondelete="SET NULL"), index=True
    )
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime)  # on the phone
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    def __repr__(self) -> str:
        return f"<LeadCapture {self.client_key} -> {self.household_id}>"


class Audience(db.Model):
    """The communicator's saved filter of households with an active newsletter consent."""

    __tablename__ = "audience"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # {"municipalities": [...], "countries": [...], "languages": [...], "stages": [...],
    #  "events": [ids]}
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Audience {self.id} {self.name!r}>"
