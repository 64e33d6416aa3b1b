import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotsen.accounts.models import User
from lotsen.db import UTCDateTime, utcnow
from lotsen.extensions import db
from lotsen.households.models import str_enum


class Purpose(enum.StrEnum):
    CONTACT = "contact"
    NEWSLETTER = "newsletter"
    SHARING_WITH_EMPLOYERS = "sharing_with_employers"
    EVENT_SIGNUP = "event_signup"


class ConsentHow(enum.StrEnum):
    FORM = "form"
    INTEREST_FORM = "interest_form"
    IN_PERSON = "in_person"
    EMAIL = "email"
    PHONE = "phone"
    IMPORT = "import"
    UNSUBSCRIBE = "unsubscribe"  # the newsletter's unsubscribe link (withdrawal only)
    EVENT_FORM = "event_form"  # an event's public sign-up page
    CAPTURE = "capture"  # ticked by the visitor at the stand, on the guide's screen


class LegalBasis(enum.StrEnum):
    PUBLIC_TASK = "public_task"
    CONSENT = "consent"


class Consent(db.Model):
    """One consent for one purpose (the household's, or one member's), as given and, once
    withdrawn, when and how. Every use that needs a consent reads this table only."""

    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_household_purpose", "household_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    purpose: Mapped[Purpose] = mapped_column(str_enum(Purpose, length=30), index=True)
    text_version: Mapped[str] = mapped_column(String(40))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime)
    given_how: Mapped[ConsentHow] = mapped_column(str_enum(ConsentHow))
    given_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_how: Mapped[ConsentHow | None] = mapped_column(str_enum(ConsentHow))
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    given_by: Mapped[User | None] = relationship(foreign_keys=[given_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None

    def __repr__(self) -> str:
        return f"<Consent {self.id} {self.household_id} {self.purpose} active={self.active}>"


class DisposalHold(db.Model):
    """A guide's reason to keep a household past its disposal date, until ``until``."""

    __tablename__ = "disposal_hold"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True
    )
    until: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(300))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<DisposalHold {self.household_id} until {self.until}>"
