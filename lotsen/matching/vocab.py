"""The vocabulary of listings, job openings and matches: stored values and their labels."""

import enum

from flask_babel import lazy_gettext as _l


class ListingTenure(enum.StrEnum):
    RENT = "rent"
    BUY = "buy"
    SUBLET = "sublet"


class ListingType(enum.StrEnum):
    APARTMENT = "apartment"
    HOUSE = "house"
    FARM = "farm"
    ROOM = "room"


class ListingStatus(enum.StrEnum):
    AVAILABLE = "available"
    RESERVED = "reserved"
    TAKEN = "taken"
    ARCHIVED = "archived"


class Extent(enum.StrEnum):
    FULL_TIME = "full_time"
    PART_TIME = "part_time"


class JobSource(enum.StrEnum):
    MANUAL = "manual"
    IMPORT = "import"  # a CSV file
    JOBTECH = "jobtech"  # Arbetsförmedlingen's JobSearch / JobStream


class JobStatus(enum.StrEnum):
    OPEN = "open"
    ARCHIVED = "archived"


class MatchStatus(enum.StrEnum):
    SUGGESTED = "suggested"
    SENT = "sent"
    INTERESTED = "interested"
    DECLINED = "declined"
    ACCEPTED = "accepted"


LABELS = {
    ListingTenure.RENT: _l("Rent"),
    ListingTenure.BUY: _l("Buy"),
    ListingTenure.SUBLET: _l("Sublet"),
    ListingType.APARTMENT: _l("Apartment"),
    ListingType.HOUSE: _l("House"),
    ListingType.FARM: _l("Farm"),
    ListingType.ROOM: _l("Room"),
    ListingStatus.AVAILABLE: _l("Available"),
    ListingStatus.RESERVED: _l("Reserved"),
    ListingStatus.TAKEN: _l("Taken"),
    ListingStatus.ARCHIVED: _l("Archived"),
    Extent.FULL_TIME: _l("Full time"),
    Extent.PART_TIME: _l("Part time"),
    JobSource.MANUAL: _l("Entered by hand"),
    JobSource.IMPORT: _l("CSV import"),
    JobSource.JOBTECH: _l("Arbetsförmedlingen"),
    JobStatus.OPEN: _l("Open"),
    JobStatus.ARCHIVED: _l("Archived"),
    MatchStatus.SUGGESTED: _l("Suggested"),
    MatchStatus.SENT: _l("Sent to the household"),
    MatchStatus.INTERESTED: _l("Interested"),
    MatchStatus.DECLINED: _l("Declined"),
    MatchStatus.ACCEPTED: _l("Accepted"),
}


def mlabel(value) -> str:
    if value is None:
        return ""
    return str(LABELS.get(value, value))


def choices(enum_cls, blank=None) -> list[tuple[str, str]]:
    items = [(m.value, LABELS[m]) for m in enum_cls]
    return [("", blank), *items] if blank is not None else items
