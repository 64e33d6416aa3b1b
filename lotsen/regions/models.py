from dataclasses import dataclass

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from lotsen.extensions import db


class Municipality(db.Model):
    """One of the ten Region 10 municipalities; rows come from a data migration."""

    __tablename__ = "municipality"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)  # kommunkod
    name: Mapped[str] = mapped_column(String(60), unique=True)
    county: Mapped[str] = mapped_column(String(60))
    county_code: Mapped[str] = mapped_column(String(2))
    jobtech_concept_id: Mapped[str] = mapped_column(String(20), unique=True)

    def __repr__(self) -> str:
        return f"<Municipality {self.code} {self.name}>"


def all_municipalities() -> list[Municipality]:
    return list(db.session.scalars(db.select(Municipality).order_by(Municipality.name)))


@dataclass(frozen=True)
class MunicipalityRef:
    code: str
    name: str


_REFS: tuple[MunicipalityRef, ...] = ()


def municipality_refs() -> tuple[MunicipalityRef, ...]:
    """The ten municipalities as plain values, read once per process: they are reference
    data that only a migration changes. The public form validates with them without
    touching the database, so a submission holds SQLite's write lock only to insert."""
    global _REFS
    if not _REFS:
        _REFS = tuple(MunicipalityRef(m.code, m.name) for m in all_municipalities())
    return _REFS
