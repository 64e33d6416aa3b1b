"""The household vocabulary (DOMAIN.md): stored values and their translated labels."""

import enum

from flask import g, has_app_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l


class Stage(enum.StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    PLANNING = "planning"
    VISIT = "visit"
    DECIDED = "decided"
    MOVED_IN = "moved_in"
    CLOSED = "closed"


class CloseReason(enum.StrEnum):
    OTHER_PLACE = "other_place"
    NO_JOB = "no_job"
    NO_HOUSING = "no_housing"
    PERSONAL = "personal"
    NO_RESPONSE = "no_response"
    NOT_ELIGIBLE = "not_eligible"


class MoverKind(enum.StrEnum):
    RETURNEE = "returnee"
    LIFESTYLE = "lifestyle"
    JOB = "job"
    PARTNER = "partner"
    ENTREPRENEUR = "entrepreneur"


class Source(enum.StrEnum):
    FAIR = "fair"
    WEBSITE = "website"
    SOCIAL_MEDIA = "social_media"
    CAMPAIGN = "campaign"
    FRIEND = "friend"
    EMPLOYER = "employer"
    RETURNEE_MAILING = "returnee_mailing"
    EVENT = "event"
    INTEREST_FORM = "interest_form"
    OTHER = "other"


class Tenure(enum.StrEnum):
    RENT = "rent"
    BUY = "buy"
    EITHER = "either"


class HousingType(enum.StrEnum):
    APARTMENT = "apartment"
    HOUSE = "house"
    FARM = "farm"
    RENOVATION = "renovation"
    ANY = "any"


class Timeframe(enum.StrEnum):
    """When a household plans to move, as the interest form asks it: stored as the code and
    shown in each reader's language."""

    SIX_MONTHS = "6m"
    ONE_YEAR = "1y"
    TWO_YEARS = "2y"
    LATER = "later"


class PersonKind(enum.StrEnum):
    ADULT = "adult"
    CHILD = "child"


class EventKind(enum.StrEnum):
    """``household_event.kind``. Each kind is shown on the timeline by its own template,
    templates/households/timeline/<value>.html; a new kind needs a member here and one."""

    CREATED = "created"
    EDITED = "edited"
    NOTE = "note"
    HANDOVER = "handover"
    SHARE = "share"
    UNSHARE = "unshare"
    MERGED = "merged"
    INTEREST_AGAIN = "interest_again"  # the interest form again, for a known household
    INTEREST_MESSAGE = "interest_message"  # the message written in the interest form
    POSSIBLE_DUPLICATE = "possible_duplicate"  # same phone as another household, not e-mail
    FOLLOWUPS_MOVED = "followups_moved"  # open follow-ups went to someone who sees it
    IMPORTED = "imported"  # created from, or a row attached by, a spreadsheet import
    EVENT_SIGNUP = "event_signup"  # signed up for an event (data: event, status, channel)
    EVENT_ATTENDANCE = "event_attendance"  # a sign-up's status changed (attended, no-show …)


class TimelineKind(enum.StrEnum):
    """Timeline entries that are rows of their own tables (the rest are ``EventKind``)."""

    CONTACT = "contact"
    STAGE = "stage"


class InterestStatus(enum.StrEnum):
    """``interest_submission.status``: the double opt-in."""

    PENDING = "pending"  # stored, confirmation link sent
    CONFIRMED = "confirmed"  # the visitor opened the link: a household has it


LABELS = {
    Stage.NEW: _l("New"),
    Stage.CONTACTED: _l("Contacted"),
    Stage.PLANNING: _l("Planning"),
    Stage.VISIT: _l("Visit"),
    Stage.DECIDED: _l("Decided"),
    Stage.MOVED_IN: _l("Moved in"),
    Stage.CLOSED: _l("Closed"),
    CloseReason.OTHER_PLACE: _l("Chose another place"),
    CloseReason.NO_JOB: _l("No job"),
    CloseReason.NO_HOUSING: _l("No housing"),
    CloseReason.PERSONAL: _l("Personal reasons"),
    CloseReason.NO_RESPONSE: _l("No response"),
    CloseReason.NOT_ELIGIBLE: _l("Not eligible / other"),
    MoverKind.RETURNEE: _l("Returnee"),
    MoverKind.LIFESTYLE: _l("Lifestyle mover"),
    MoverKind.JOB: _l("Job mover"),
    MoverKind.PARTNER: _l("Family with partner who needs a job"),
    MoverKind.ENTREPRENEUR: _l("Entrepreneur"),
    Source.FAIR: _l("Fair"),
    Source.WEBSITE: _l("Municipality website"),
    Source.SOCIAL_MEDIA: _l("Social media"),
    Source.CAMPAIGN: _l("Film or campaign"),
    Source.FRIEND: _l("Friend or relative"),
    Source.EMPLOYER: _l("Employer"),
    Source.RETURNEE_MAILING: _l("Returnee mailing"),
    Source.EVENT: _l("Event (visit weekend, trial stay)"),
    Source.INTEREST_FORM: _l("Interest form"),
    Source.OTHER: _l("Other"),
    Tenure.RENT: _l("Rent"),
    Tenure.BUY: _l("Buy"),
    Tenure.EITHER: _l("Rent or buy"),
    HousingType.APARTMENT: _l("Apartment"),
    HousingType.HOUSE: _l("House"),
    HousingType.FARM: _l("Farm"),
    HousingType.RENOVATION: _l("House to renovate"),
    HousingType.ANY: _l("Any"),
    Timeframe.SIX_MONTHS: _l("Within six months"),
    Timeframe.ONE_YEAR: _l("Within a year"),
    Timeframe.TWO_YEARS: _l("In one or two years"),
    Timeframe.LATER: _l("Later, or not sure yet"),
    PersonKind.ADULT: _l("Adult"),
    PersonKind.CHILD: _l("Child"),
}

LANGUAGES = {
    "sv": _l("Swedish"),
    "en": _l("English"),
    "de": _l("German"),
    "nl": _l("Dutch"),
    "other": _l("Other language"),
}


def label(value) -> str:
    """The translated label of a vocabulary value ('' for None). The labels are kept per
    language (the one of the request's first label): a list page asks for the same few
    labels hundreds of times, and each translation through Flask-Babel costs ~50 calls."""
    if value is None:
        return ""
    if not has_app_context() or (value not in LABELS and value not in LANGUAGES):
        return str(LABELS.get(value, LANGUAGES.get(value, value)))  # kept: the vocabulary only
    kept = g.get("_labels")
    if kept is None:
        kept = g._labels = _TRANSLATED.setdefault(str(get_locale()), {})
    text = kept.get(value)
    if text is None:
        text = kept[value] = str(LABELS.get(value, LANGUAGES.get(value, value)))
    return text


_TRANSLATED: dict[str, dict] = {}  # language -> value -> label


def choices(enum_cls, blank=None) -> list[tuple[str, str]]:
    items = [(m.value, LABELS[m]) for m in enum_cls]
    return [("", blank), *items] if blank is not None else items
