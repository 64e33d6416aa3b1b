"""The events vocabulary: stored values and their translated labels."""

import enum

from flask_babel import lazy_gettext as _l


class EventType(enum.StrEnum):
    FAIR = "fair"
    WEBINAR = "webinar"
    VISIT_TRIP = "visit_trip"
    OPEN_HOUSE = "open_house"
    OTHER = "other"


class EventStatus(enum.StrEnum):
    PLANNED = "planned"
    OPEN = "open"  # open for sign-up
    CLOSED = "closed"  # sign-up closed
    HELD = "held"
    CANCELLED = "cancelled"


class SignupStatus(enum.StrEnum):
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"  # over capacity: moves up when a place frees
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class SignupChannel(enum.StrEnum):
    STAFF = "staff"  # a guide signed the household up
    PUBLIC = "public"  # the public sign-up page (double opt-in)
    CAPTURE = "capture"  # lead capture at the stand


# Sign-ups that hold a place (capacity counts them).
HOLDS_PLACE = (SignupStatus.REGISTERED, SignupStatus.ATTENDED, SignupStatus.NO_SHOW)

LABELS = {
    EventType.FAIR: _l("Fair"),
    EventType.WEBINAR: _l("Webinar"),
    EventType.VISIT_TRIP: _l("Visit trip"),
    EventType.OPEN_HOUSE: _l("Open house"),
    EventType.OTHER: _l("Other event"),
    EventStatus.PLANNED: _l("Planned"),
    EventStatus.OPEN: _l("Open for sign-up"),
    EventStatus.CLOSED: _l("Sign-up closed"),
    EventStatus.HELD: _l("Held"),
    EventStatus.CANCELLED: _l("Cancelled"),
    SignupStatus.REGISTERED: _l("Signed up"),  # not "Registered": that is a household's
    SignupStatus.WAITLISTED: _l("Waiting list"),
    SignupStatus.ATTENDED: _l("Attended"),
    SignupStatus.NO_SHOW: _l("No-show"),
    SignupStatus.CANCELLED: _l("Sign-up cancelled"),  # the event's own is "Cancelled"
    SignupChannel.STAFF: _l("Signed up by staff"),
    SignupChannel.PUBLIC: _l("Public sign-up"),
    SignupChannel.CAPTURE: _l("Met at the stand"),
}


def label(value) -> str:
    return str(LABELS.get(value, value))
