import enum
import secrets
from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotsen.db import UTCDateTime, utcnow
from lotsen.extensions import db
from lotsen.regions.models import Municipality


class Role(enum.StrEnum):
    GUIDE = "guide"
    COORDINATOR = "coordinator"
    ADMIN = "admin"
    # Sees events and aggregate figures, builds newsletter audiences; no household pages.
    COMMUNICATOR = "communicator"


user_extra_municipality = Table(
    "user_extra_municipality",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("municipality_code", ForeignKey("municipality.code"), primary_key=True),
)


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class User(db.Model):
    """A staff account. ``session_token`` is Flask-Login's alternative id: changing it ends
    every session of the user (logout, password change, deactivation)."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(
        db.Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    municipality_code: Mapped[str | None] = mapped_column(ForeignKey("municipality.code"))
    password_hash: Mapped[str] = mapped_column(String(255))
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(5), default="sv")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notify_reminders: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    notify_digest: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # The secret in the user's private calendar-feed URL; None when the feed is off.
    ical_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Two-factor login (TOTP): the shared secret once enrolled, and the last time step a
    # code was accepted for (a code works only once).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    municipality: Mapped[Municipality | None] = relationship(lazy="joined")
    extra_municipalities: Mapped[list[Municipality]] = relationship(
        secondary=user_extra_municipality, order_by=Municipality.name
    )

    # Flask-Login protocol
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_guide(self) -> bool:
        return self.role == Role.GUIDE

    @property
    def sees_whole_region(self) -> bool:
        return self.role == Role.COORDINATOR

    @property
    def municipality_codes(self) -> set[str]:
        codes = {m.code for m in self.extra_municipalities}
        if self.municipality_code:
            codes.add(self.municipality_code)
        return codes

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class LoginAttempt(db.Model):
    """Every login attempt; failures in a window are the throttle's counters."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(45))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    success: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(
        String(20)
    )  # ok, bad_password, unknown, inactive, throttled

    def __repr__(self) -> str:
        return f"<LoginAttempt {self.email} {self.ip} {self.outcome}>"


class RecoveryCode(db.Model):
    """A one-time recovery code for the second factor, stored as an argon2 hash."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<RecoveryCode {self.id} user={self.user_id} used={self.used_at is not None}>"
