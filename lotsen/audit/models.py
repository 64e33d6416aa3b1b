from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotsen.db import UTCDateTime, utcnow
from lotsen.extensions import db


class AuditEntry(db.Model):
    """One thing someone did or looked at: who, when, what, from which address.

    Append-only: nothing in the app updates or deletes a row, and on PostgreSQL a trigger
    (migration 0021_audit) refuses UPDATE and DELETE, except for a purge that sets
    ``lotsen.audit_purge`` for its own transaction (``purge_entries``). ``household_id`` is
    a plain column, not a foreign key: the entries about a household outlive it (merge).
    """

    __tablename__ = "audit_entry"
    __table_args__ = (
        # The household page's panel reads this index alone: newest first (at, id), with
        # who (user_id) and what (action) in it (migration 0025_p11).
        Index("ix_audit_entry_household_at", "household_id", "at", "id", "user_id", "action"),
        Index("ix_audit_entry_user_at", "user_id", "at"),
        Index("ix_audit_entry_action_at", "action", "at"),
        Index("ix_audit_entry_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # No ON DELETE: an account with entries is deactivated, never deleted.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(40))
    household_id: Mapped[int | None] = mapped_column(Integer)
    target: Mapped[str | None] = mapped_column(String(120))
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    ip: Mapped[str | None] = mapped_column(String(45))

    user = relationship("User", lazy="raise")

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} by {self.user_id} on {self.household_id}>"
