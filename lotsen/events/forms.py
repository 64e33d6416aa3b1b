from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from lotsen import clock
from lotsen.events.services import LANGUAGES, SLUG_MAX, SLUG_PATTERN, slug_taken
from lotsen.events.vocab import LABELS, EventStatus, EventType, SignupStatus
from lotsen.forms import BaseForm, GetForm, MultiCheckboxField, OptionalSelectField, SelectField
from lotsen.households.forms import country_choices
from lotsen.urls import MAX_ID

DESCRIPTION = [Optional(), Length(max=5000)]
TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
LANGUAGE_NAMES = {"sv": _l("Swedish"), "en": _l("English"), "de": _l("German"), "nl": _l("Dutch")}


def vocab_choices(enum_class) -> list[tuple[str, str]]:
    return [(m.value, LABELS[m]) for m in enum_class]


def to_utc(local: datetime) -> datetime:
    """A wall-clock time entered in Sweden as an aware UTC datetime."""
    return local.replace(tzinfo=clock.ZONE).astimezone(UTC)


def to_local(moment: datetime) -> datetime:
    """A stored UTC time as the naive Swedish wall-clock time the form shows."""
    return moment.astimezone(clock.ZONE).replace(tzinfo=None)


class EventForm(BaseForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=160)])
    kind = SelectField(_l("Kind of event"), choices=vocab_choices(EventType))
    starts_at = DateTimeLocalField(
        _l("Starts (Swedish time)"), format=TIME_FORMATS, validators=[InputRequired()]
    )
    ends_at = DateTimeLocalField(
        _l("Ends (Swedish time)"), format=TIME_FORMATS, validators=[InputRequired()]
    )
    place = StringField(
        _l("Place"),
        validators=[Optional(), Length(max=200)],
        description=_l("Venue and town, e.g. Jaarbeurs, Utrecht."),
    )
    country = OptionalSelectField(_l("Country"))
    online_url = URLField(
        _l("Online link"),
        validators=[Optional(), Length(max=500)],
        description=_l("For a webinar: the https:// link to join."),
    )
    municipalities = MultiCheckboxField(_l("Municipalities taking part"))
    staff = MultiCheckboxField(_l("Responsible staff"), coerce=int)
    capacity = IntegerField(
        _l("Places"),
        validators=[Optional(), NumberRange(1, 100_000)],
        description=_l("Leave empty for no limit. When full, new sign-ups go on a waiting list."),
    )
    description_sv = TextAreaField(_l("Public description (Swedish)"), DESCRIPTION)
    description_en = TextAreaField(_l("Public description (English)"), DESCRIPTION)
    description_de = TextAreaField(_l("Public description (German)"), DESCRIPTION)
    description_nl = TextAreaField(_l("Public description (Dutch)"), DESCRIPTION)
    cost_sek = IntegerField(
        _l("Cost (SEK)"),
        validators=[Optional(), NumberRange(0, 100_000_000)],
        description=_l("What the event cost in all: gives the cost per lead and per move-in."),
    )
    status = SelectField(_l("Status"), choices=vocab_choices(EventStatus))
    slug = StringField(
        _l("Address of the public page"),
        validators=[
            Optional(),
            Length(max=SLUG_MAX),
            Regexp(SLUG_PATTERN, message=_l("Only a–z, 0–9 and single hyphens, e.g. fair-2027.")),
        ],
        description=_l("/events/… – made from the name and date when left empty."),
    )

    def __init__(
        self, *args, municipalities=(), staff=(), slug_editable=False, event_id=None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.municipalities.choices = [(m.code, m.name) for m in municipalities]
        self.staff.choices = [(u.id, u.name) for u in staff]
        self.country.choices = country_choices()
        self.slug_editable = slug_editable
        self.event_id = event_id
        if not slug_editable:
            del self.slug

    def validate_ends_at(self, field):
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("The end must be after the start."))

    def validate_online_url(self, field):
        parts = urlsplit(field.data or "")
        if field.data and (parts.scheme not in ("http", "https") or not parts.netloc):
            raise ValidationError(_l("An http:// or https:// link, please."))

    def validate_country(self, field):
        if self.place.data and not field.data:
            raise ValidationError(_l("Choose the country of the place."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not self.place.data and not self.online_url.data:
            self.place.errors = [*self.place.errors, _l("Give a place, an online link, or both.")]
            valid = False
        return valid

    def validate_slug(self, field):
        if field.data and slug_taken(field.data, self.event_id):
            raise ValidationError(_l("Another event has this address."))

    def descriptions(self) -> dict[str, str]:
        return {lang: self[f"description_{lang}"].data or "" for lang in LANGUAGES}

    def fill(self, event) -> None:
        """Prefill from ``event`` (on GET): times back in Swedish time, lists as ids."""
        self.starts_at.data = to_local(event.starts_at)
        self.ends_at.data = to_local(event.ends_at)
        self.municipalities.data = sorted(event.municipality_codes)
        self.staff.data = [u.id for u in event.staff]
        for lang in LANGUAGES:
            self[f"description_{lang}"].data = (event.descriptions or {}).get(lang, "")


class EventFilterForm(GetForm):
    when = SelectField(
        _l("When"),
        choices=[
            ("upcoming", _l("Upcoming")),
            ("past", _l("Past")),
            ("all", _l("All")),
        ],
        default="upcoming",
    )
    status = OptionalSelectField(_l("Status"))
    kind = OptionalSelectField(_l("Kind of event"))
    municipality = OptionalSelectField(_l("Municipality"))
    page = IntegerField(validators=[Optional(), NumberRange(1, 10_000)])

    def __init__(self, *args, municipalities=(), **kwargs):
        super().__init__(*args, **kwargs)
        everyone = [("", _l("All"))]
        self.status.choices = everyone + vocab_choices(EventStatus)
        self.kind.choices = everyone + vocab_choices(EventType)
        self.municipality.choices = everyone + [(m.code, m.name) for m in municipalities]


class AttendanceForm(BaseForm):
    signup_id = IntegerField(validators=[InputRequired(), NumberRange(1, MAX_ID)])
    status = SelectField(choices=vocab_choices(SignupStatus), validators=[InputRequired()])


class HouseholdSignupForm(BaseForm):
    event_id = SelectField(_l("Event"), coerce=int, validators=[InputRequired()])
    people = IntegerField(_l("Places"), default=1, validators=[InputRequired(), NumberRange(1, 20)])

    send_confirmation = BooleanField(
        _l("E-mail the household a confirmation (with a calendar invitation)"), default=True
    )

    def __init__(self, *args, events=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.event_id.choices = list(events)  # (id, label)
