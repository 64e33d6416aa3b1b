from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotsen.accounts.models import User
from lotsen.db import UTCDateTime, utcnow
from lotsen.extensions import db


class ImportBatch(db.Model):
    """One uploaded file and what its import did: the log entry an undo works from.

    status: ``draft`` (uploaded, being mapped and previewed), ``done`` (imported),
    ``undone`` (every created household removed again) or ``partly_undone``.
    """

    __tablename__ = "import_batch"
    __table_args__ = (Index("ix_import_batch_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    filename: Mapped[str] = mapped_column(String(200))
    file_hash: Mapped[str] = mapped_column(String(64), index=True)  # SHA-256 of the bytes
    status: Mapped[str] = mapped_column(String(14), default="draft")
    header: Mapped[list[str]] = mapped_column(JSON)
    rows: Mapped[list[list[str]]] = mapped_column(JSON)  # the cells, as text
    mapping: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # column index -> field
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # defaults for empty cells
    counts: Mapped[dict[str, int] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    results: Mapped[list["ImportRow"]] = relationship(
        back_populates="batch", cascade="all, delete-orphan", order_by="ImportRow.row_number"
    )

    def __repr__(self) -> str:
        return f"<ImportBatch {self.id} {self.filename!r} {self.status}>"


class ImportRow(db.Model):
    """What the import did with one row of the file: created, attached, skipped, invalid.

    ``row_key`` (a hash of the row's cells) makes an import idempotent: a row imported
    before (and not undone) is skipped when the same file, or the same line in another
    file, comes again.
    """

    __tablename__ = "import_row"
    __table_args__ = (Index("ix_import_row_key_outcome", "row_key", "outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("import_batch.id", ondelete="CASCADE"), index=True
    )
    row_number: Mapped[int] = mapped_column(Integer)  # as the spreadsheet numbers it
    row_key: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(10))  # created, attached, skipped, invalid
    household_id: Mapped[int | None] = mapped_column(
        ForeignKey("household.id", ondelete="SET NULL"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(Integer)  # the timeline entry it added
    version: Mapped[int | None] = mapped_column(Integer)  # the household's version after it
    history: Mapped[int | None] = mapped_column(Integer)  # its events and stage changes after it
    message: Mapped[str | None] = mapped_column(String(1000))
    undone: Mapped[bool] = mapped_column(default=False)

    batch: Mapped[ImportBatch] = relationship(back_populates="results")

    def __repr__(self) -> str:
        return f"<ImportRow {self.batch_id}:{self.row_number} {self.outcome}>"


class ImportMapping(db.Model):
    """The column mapping a user chose, by normalised header: guessed first next time."""

    __tablename__ = "import_mapping"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    mapping: Mapped[dict[str, str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<ImportMapping {self.user_id}>"
