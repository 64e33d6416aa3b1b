from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lotsen.db import UTCDateTime, utcnow
from lotsen.extensions import db


class ExportLog(db.Model):
    """Who downloaded which figures or household list, when, with which filters."""

    __tablename__ = "export_log"
    __table_args__ = (Index("ix_export_log_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))  # households, funder_report
    format: Mapped[str] = mapped_column(String(5))  # csv, xlsx
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ExportLog {self.id} {self.kind}.{self.format} by {self.user_id}>"
