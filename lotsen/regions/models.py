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
