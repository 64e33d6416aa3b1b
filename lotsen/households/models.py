from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotsen.accounts.models import User
from lotsen.db import UTCDateTime, utcnow
from lotsen.extensions import db
from lotsen.households.vocab import (
    CloseReason,
    EventKind,
    HousingType,
    MoverKind,
    PersonKind,
    Source,
    Stage,
    Tenure,
    Timeframe,
)
from lotsen.regions.models import Municipality


def str_enum(enum_cls, length: int = 20):
    """A portable enum column: VARCHAR holding the enum's value."""
    return db.Enum(
        enum_cls,
        native_enum=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
    )


# Every municipality a household is interested in, the primary one included: scope and
# municipality filters are then one narrow index look-up ("which households in Malå?").
household_municipality = Table(
    "household_municipality",
    db.metadata,
    Column("household_id", ForeignKey("household.id", ondelete="CASCADE"), primary_key=True),
    Column("municipality_code", ForeignKey("municipality.code"), primary_key=True),
    Index("ix_household_municipality_code_household", "municipality_code", "household_id"),
)

household_tag = Table(
    "household_tag",
    db.metadata,
    Column("household_id", ForeignKey("household.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(db.Model):
    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)

    def __repr__(self) -> str:
        return f"<Tag {self.name}>"


class Household(db.Model):
    """A prospective in-moving household: the unit a guide works with."""

    __tablename__ = "household"
    __table_args__ = (
        Index("ix_household_stage_last_contact", "stage", "last_contact_at"),
        Index("ix_household_primary_stage", "primary_municipality_code", "stage"),
        Index("ix_household_stage_id", "stage", "id"),  # covering: "ids at this stage"
        Index("ix_household_guide_id", "guide_id", "id"),  # covering: "ids of my households"
        # covering: the pipeline's workload (active households and oldest contact per guide)
        Index("ix_household_guide_workload", "guide_id", "stage", "last_contact_at", "created_at"),
        # the list sorted by last contact, oldest (none) first, and its reverse: PostgreSQL
        # puts NULLs last in a plain index, so it could not walk that one in this order
        Index(
            "ix_household_last_contact_id",
            "last_contact_at",
            "id",
            postgresql_ops={"last_contact_at": "NULLS FIRST"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), index=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    town: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str | None] = mapped_column(String(5))
    mover_kind: Mapped[MoverKind | None] = mapped_column(str_enum(MoverKind))

    # None means "not sure yet": the household then waits in the regional inbox.
    primary_municipality_code: Mapped[str | None] = mapped_column(ForeignKey("municipality.code"))

    housing_tenure: Mapped[Tenure | None] = mapped_column(str_enum(Tenure))
    housing_type: Mapped[HousingType | None] = mapped_column(str_enum(HousingType))
    housing_rooms: Mapped[int | None] = mapped_column(SmallInteger)
    housing_budget: Mapped[int | None] = mapped_column(Integer)  # SEK
    housing_area: Mapped[str | None] = mapped_column(String(200))
    housing_needs: Mapped[str | None] = mapped_column(String(1000))

    move_date: Mapped[date | None] = mapped_column(Date)
    timeframe_code: Mapped[Timeframe | None] = mapped_column(str_enum(Timeframe))
    timeframe: Mapped[str | None] = mapped_column(String(200))  # in words: "summer 2027"

    source: Mapped[Source | None] = mapped_column(str_enum(Source), index=True)
    source_detail: Mapped[str | None] = mapped_column(String(200))
    # The first event (fair, webinar, visit trip) that brought the household. No foreign key:
    # SQLite can add one only by copying this table (which drops its search triggers); events
    # are never deleted (they are cancelled), so the id always names one.
    first_event_id: Mapped[int | None] = mapped_column(Integer, index=True)

    stage: Mapped[Stage] = mapped_column(str_enum(Stage), default=Stage.NEW)
    close_reason: Mapped[CloseReason | None] = mapped_column(str_enum(CloseReason))
    stage_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    guide_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    # Name, members, e-mail, phone and notes in one text: what free-text search indexes
    # (SQLite FTS5 table kept by triggers, PostgreSQL GIN full-text index; see migrations).
    search_text: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str] = mapped_column(String(30), default="public_task")
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # by disposal

    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    primary_municipality: Mapped[Municipality | None] = relationship()
    municipalities: Mapped[list[Municipality]] = relationship(
        secondary=household_municipality, order_by=Municipality.name
    )
    guide: Mapped[User | None] = relationship(foreign_keys=[guide_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    persons: Mapped[list["Person"]] = relationship(
        back_populates="household", cascade="all, delete-orphan", order_by="Person.position"
    )
    tags: Mapped[list[Tag]] = relationship(secondary=household_tag, order_by=Tag.name)
    shares: Mapped[list["HouseholdShare"]] = relationship(
        back_populates="household", cascade="all, delete-orphan"
    )

    @property
    def adults(self) -> list["Person"]:
        return [p for p in self.persons if p.kind == PersonKind.ADULT]

    @property
    def children(self) -> list["Person"]:
        return [p for p in self.persons if p.kind == PersonKind.CHILD]

    @property
    def other_municipalities(self) -> list[Municipality]:
        return [m for m in self.municipalities if m.code != self.primary_municipality_code]

    @property
    def municipality_codes(self) -> set[str]:
        return {m.code for m in self.municipalities}

    def __repr__(self) -> str:
        return f"<Household {self.id} {self.name!r} {self.stage}>"


class Person(db.Model):
    """A member of a household: an adult or a child."""

    __tablename__ = "person"
    # covering: adults and children per household (the funders' figures)
    __table_args__ = (Index("ix_person_household_kind", "household_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(SmallInteger, default=0)
    kind: Mapped[PersonKind] = mapped_column(str_enum(PersonKind))
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str | None] = mapped_column(String(80))
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    occupation: Mapped[str | None] = mapped_column(String(120))
    ssyk_code: Mapped[str | None] = mapped_column(String(4))
    languages: Mapped[str | None] = mapped_column(String(120))
    seeks_job: Mapped[bool] = mapped_column(Boolean, default=False)
    credentials: Mapped[str | None] = mapped_column(String(200))

    household: Mapped[Household] = relationship(back_populates="persons")

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.full_name!r} {self.kind}>"


class HouseholdShare(db.Model):
    """A household shared with a guide outside its municipalities."""

    __tablename__ = "household_share"

    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    household: Mapped[Household] = relationship(back_populates="shares")
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<HouseholdShare {self.household_id} -> {self.user_id}>"


class StageChange(db.Model):
    """Every stage change, from the first ("new") on: the source of all pipeline reports."""

    __tablename__ = "stage_change"
    __table_args__ = (
        Index("ix_stage_change_household_at", "household_id", "at"),
        Index("ix_stage_change_to_stage_at", "to_stage", "at"),
        Index("ix_stage_change_from_stage_at", "from_stage", "at"),  # first entries: interests
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id", ondelete="CASCADE"))
    from_stage: Mapped[Stage | None] = mapped_column(str_enum(Stage))
    to_stage: Mapped[Stage] = mapped_column(str_enum(Stage))
    close_reason: Mapped[CloseReason | None] = mapped_column(str_enum(CloseReason))
    comment: Mapped[str | None] = mapped_column(String(500))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<StageChange {self.household_id} {self.from_stage}->{self.to_stage}>"


class HouseholdEvent(db.Model):
    """A timeline entry that is neither a contact nor a stage change: a note, a handover,
    a share, an edit."""

    __tablename__ = "household_event"
    __table_args__ = (Index("ix_household_event_household_at", "household_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id", ondelete="CASCADE"))
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind))
    text: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<HouseholdEvent {self.household_id} {self.kind}>"
