"""Housing listings, job openings and the matches between them and households."""

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotsen.accounts.models import User
from lotsen.db import UTCDateTime, utcnow
from lotsen.extensions import db
from lotsen.households.models import Household, Person, str_enum
from lotsen.matching.vocab import (
    Extent,
    JobSource,
    JobStatus,
    ListingStatus,
    ListingTenure,
    ListingType,
    MatchStatus,
)
from lotsen.regions.models import Municipality


class Listing(db.Model):
    """A home for rent or sale in one municipality, entered by a guide or imported."""

    __tablename__ = "listing"
    __table_args__ = (Index("ix_listing_status_municipality", "status", "municipality_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipality.code"))
    title: Mapped[str] = mapped_column(String(200))
    area: Mapped[str | None] = mapped_column(String(120))  # area or village
    address: Mapped[str | None] = mapped_column(String(200))
    tenure: Mapped[ListingTenure] = mapped_column(str_enum(ListingTenure))
    type: Mapped[ListingType] = mapped_column(str_enum(ListingType))
    rooms: Mapped[int | None] = mapped_column(SmallInteger)
    living_area: Mapped[int | None] = mapped_column(Integer)  # m²
    rent: Mapped[int | None] = mapped_column(Integer)  # SEK per month
    price: Mapped[int | None] = mapped_column(Integer)  # SEK
    available_from: Mapped[date | None] = mapped_column(Date)
    contact: Mapped[str | None] = mapped_column(String(200))  # landlord or owner
    url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[ListingStatus] = mapped_column(
        str_enum(ListingStatus), default=ListingStatus.AVAILABLE
    )
    # The id in the file it was imported from: a re-import updates the same listing.
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    municipality: Mapped[Municipality] = relationship()

    @property
    def cost(self) -> int | None:
        return self.price if self.tenure == ListingTenure.BUY else self.rent

    def __repr__(self) -> str:
        return f"<Listing {self.id} {self.title!r} {self.status}>"


class JobOpening(db.Model):
    """A vacancy in one municipality: entered by hand, from a CSV file or from JobTech."""

    __tablename__ = "job_opening"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        # Covering: job suggestions read open jobs of a few municipalities and match their
        # SSYK code and words without touching the table.
        Index(
            "ix_job_opening_match",
            "status",
            "municipality_code",
            "last_application_date",
            "ssyk_code",
            "search_text",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipality.code"))
    title: Mapped[str] = mapped_column(String(200))
    employer: Mapped[str | None] = mapped_column(String(200))
    occupation: Mapped[str | None] = mapped_column(String(200))
    ssyk_code: Mapped[str | None] = mapped_column(String(4))  # SSYK 2012, 4 digits
    extent: Mapped[Extent | None] = mapped_column(str_enum(Extent))
    employment_type: Mapped[str | None] = mapped_column(String(100))
    last_application_date: Mapped[date | None] = mapped_column(Date)
    url: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[JobSource] = mapped_column(str_enum(JobSource), default=JobSource.MANUAL)
    external_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[JobStatus] = mapped_column(str_enum(JobStatus), default=JobStatus.OPEN)
    # Title and occupation, lower case without diacritics: what occupation words match.
    search_text: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    municipality: Mapped[Municipality] = relationship()

    def __repr__(self) -> str:
        return f"<JobOpening {self.id} {self.title!r} {self.status}>"


class Match(db.Model):
    """A listing or job suggested to a household (a job: to one adult of it), and what
    came of it: suggested -> sent -> interested / declined -> accepted."""

    __tablename__ = "household_match"
    __table_args__ = (
        UniqueConstraint("household_id", "listing_id", name="uq_household_match_listing"),
        UniqueConstraint("household_id", "job_id", "person_id", name="uq_household_match_job"),
        Index("ix_household_match_listing_id", "listing_id"),
        Index("ix_household_match_job_id", "job_id"),
        CheckConstraint("(listing_id IS NULL) <> (job_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id", ondelete="CASCADE"))
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job_opening.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    status: Mapped[MatchStatus] = mapped_column(
        str_enum(MatchStatus), default=MatchStatus.SUGGESTED
    )
    score: Mapped[int] = mapped_column(SmallInteger, default=0)
    decline_reason: Mapped[str | None] = mapped_column(String(300))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    household: Mapped[Household] = relationship()
    listing: Mapped[Listing | None] = relationship()
    job: Mapped[JobOpening | None] = relationship()
    person: Mapped[Person | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        target = f"listing {self.listing_id}" if self.listing_id else f"job {self.job_id}"
        return f"<Match {self.id} household {self.household_id} {target} {self.status}>"
