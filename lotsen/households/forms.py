from functools import cache, lru_cache

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.core import UnboundField
from wtforms.validators import (
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from lotsen import clock
from lotsen.audit.minimise import NoIdentityNumber
from lotsen.forms import (
    BaseForm,
    GetForm,
    MultiCheckboxField,
    OptionalSelectField,
    SelectField,
    StrippedForm,
    SubmitOnce,
)
from lotsen.households.services import EDITABLE_FIELDS, PERSON_FIELDS, HouseholdData
from lotsen.households.vocab import (
    LANGUAGES,
    CloseReason,
    HousingType,
    MoverKind,
    PersonKind,
    Source,
    Stage,
    Tenure,
    Timeframe,
    choices,
)
from lotsen.urls import MAX_ID

COMMON_COUNTRIES = ("SE", "NL", "DE", "NO", "FI", "DK", "BE", "GB")
EMPTY_PERSON_ROWS = 2
MAX_PERSONS = 15
MAX_TAGS = 10
SHORT_NOTE = _l(
    "Notes are public documents (allmänna handlingar) that anyone may ask to read: keep "
    "them factual and short, and write no personal identity numbers."
)


def country_choices() -> list[tuple[str, str]]:
    """Countries named in the current language, the common ones first."""
    return [("", _l("- choose -")), *_countries(str(get_locale()))]


@cache
def _countries(locale: str) -> tuple[SelectChoice, ...]:
    territories = Locale.parse(locale).territories
    codes = sorted((c for c in territories if len(c) == 2 and c.isalpha()), key=territories.get)
    common = [SelectChoice(c, territories[c]) for c in COMMON_COUNTRIES]
    rest = [SelectChoice(c, territories[c]) for c in codes if c not in COMMON_COUNTRIES]
    return (*common, *rest)


def normalise_phone(raw: str, country: str | None) -> str:
    """A phone number in E.164, or ValidationError with a message the user can act on."""
    import phonenumbers  # loaded when a number is first entered, not in every worker

    try:
        number = phonenumbers.parse(raw, country or "SE")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_l("This is not a phone number.")) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _l("This phone number is not valid. Give it with country code, e.g. +31 6 12345678.")
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def up_to_this_year(form, field):
    """1900 to this year, read when the form is checked (not when the module was imported)."""
    NumberRange(min=1900, max=clock.today().year)(form, field)


class PersonForm(StrippedForm):
    id = HiddenField()
    kind = SelectField(_l("Adult or child"), choices=choices(PersonKind), default=PersonKind.ADULT)
    # a mover's name, not the guide's own: the browser must not fill in the guide's
    first_name = StringField(
        _l("First name"), validators=[Length(max=80)], render_kw={"autocomplete": "off"}
    )
    last_name = StringField(
        _l("Last name"), validators=[Length(max=80)], render_kw={"autocomplete": "off"}
    )
    birth_year = IntegerField(
        _l("Birth year"),
        validators=[Optional(), up_to_this_year],
    )
    occupation = StringField(_l("Occupation"), validators=[Length(max=120)])
    ssyk_code = StringField(
        _l("SSYK code"),
        validators=[Optional(), Regexp(r"^\d{4}$", message=_l("An SSYK code has four digits."))],
    )
    languages = StringField(_l("Languages"), validators=[Length(max=120)])
    seeks_job = BooleanField(_l("Looking for a job"))
    credentials = StringField(_l("Credentials in progress"), validators=[Length(max=200)])

    def is_blank(self) -> bool:
        return not any(
            self[name].data for name in PERSON_FIELDS if name not in ("kind", "seeks_job")
        )

    def validate_first_name(self, field):
        if not field.data and not self.is_blank():
            raise ValidationError(_l("Each member needs a first name."))


class HouseholdForm(SubmitOnce, BaseForm):
    version = HiddenField()
    name = StringField(
        _l("Household name"),
        validators=[InputRequired(), Length(max=160)],
        description=_l('E.g. "Familjen de Vries" or the main contact\'s name.'),
    )
    # A guide types someone else's details: the browser must not offer the guide's own.
    email = EmailField(
        _l("E-mail"),
        validators=[Optional(), Email(), Length(max=254)],
        render_kw={"autocomplete": "off"},
    )
    phone = TelField(
        _l("Phone"), validators=[Optional(), Length(max=40)], render_kw={"autocomplete": "off"}
    )
    country = OptionalSelectField(_l("Country"), choices=[])
    town = StringField(_l("Town"), validators=[Length(max=100)], render_kw={"autocomplete": "off"})
    language = OptionalSelectField(
        _l("Preferred language"), choices=[("", _l("- choose -")), *LANGUAGES.items()]
    )
    mover_kind = OptionalSelectField(
        _l("Kind of mover"), choices=choices(MoverKind, _l("- choose -"))
    )
    primary_municipality_code = OptionalSelectField(_l("Primary municipality"), choices=[])
    other_municipalities = MultiCheckboxField(_l("Also interested in"), choices=[])
    housing_tenure = OptionalSelectField(
        _l("Rent or buy"), choices=choices(Tenure, _l("- choose -"))
    )
    housing_type = OptionalSelectField(
        _l("Type of home"), choices=choices(HousingType, _l("- choose -"))
    )
    housing_rooms = IntegerField(_l("Rooms"), validators=[Optional(), NumberRange(min=1, max=30)])
    housing_budget = IntegerField(
        _l("Budget (SEK)"), validators=[Optional(), NumberRange(min=0, max=100_000_000)]
    )
    housing_area = StringField(_l("Area or village"), validators=[Length(max=200)])
    housing_needs = TextAreaField(_l("Housing needs"), validators=[Length(max=1000)])
    move_date = DateField(_l("Planned moving date"), validators=[Optional()])
    timeframe_code = OptionalSelectField(
        _l("Timeframe"), choices=choices(Timeframe, _l("- choose -"))
    )
    timeframe = StringField(
        _l("Timeframe in words"),
        validators=[Length(max=200)],
        description=_l('E.g. "summer 2027".'),
    )
    source = OptionalSelectField(
        _l("How they heard of us"), choices=choices(Source, _l("- choose -"))
    )
    source_detail = StringField(_l("Source details"), validators=[Length(max=200)])
    guide_id = OptionalSelectField(_l("Guide"), choices=[], coerce=lambda v: int(v) if v else None)
    tags = StringField(
        _l("Tags"), validators=[Length(max=400)], description=_l("Separate tags with commas.")
    )
    notes = TextAreaField(
        _l("Notes"), validators=[Length(max=5000), NoIdentityNumber()], description=SHORT_NOTE
    )
    persons = FieldList(
        FormField(PersonForm), label=_l("Members"), min_entries=1, max_entries=MAX_PERSONS
    )

    def __init__(self, *args, municipalities=(), guides=(), **kwargs):
        super().__init__(*args, **kwargs)
        muni = [(m.code, m.name) for m in municipalities]
        self.primary_municipality_code.choices = [("", _l("Not sure yet")), *muni]
        self.other_municipalities.choices = muni
        self.country.choices = country_choices()
        self.guide_id.choices = [("", _l("- nobody yet -")), *[(g.id, g.name) for g in guides]]
        if not self.is_submitted():  # blank rows to add members without JavaScript
            blanks = sum(entry.form.is_blank() for entry in self.persons.entries)
            for _ in range(min(EMPTY_PERSON_ROWS - blanks, MAX_PERSONS - len(self.persons))):
                self.persons.append_entry()

    def validate_phone(self, field):
        if field.data:
            field.data = normalise_phone(field.data, self.country.data)

    def validate_email(self, field):
        if field.data:
            field.data = field.data.lower()

    def validate_tags(self, field):
        tags = self.tag_list()
        if len(tags) > MAX_TAGS:
            raise ValidationError(_l("At most %(n)d tags.", n=MAX_TAGS))
        if any(len(t) > 40 for t in tags):
            raise ValidationError(_l("A tag can be at most 40 characters long."))

    def tag_list(self) -> list[str]:
        return [t.strip() for t in (self.tags.data or "").split(",") if t.strip()]

    def household_data(self) -> HouseholdData:
        fields = {name: self[name].data or None for name in EDITABLE_FIELDS}
        persons = []
        for entry in self.persons.entries:
            if entry.form.is_blank():
                continue
            row = {name: entry.form[name].data or None for name in PERSON_FIELDS}
            raw_id = str(entry.form.id.data or "")
            row["id"] = int(raw_id) if raw_id.isdigit() else None
            persons.append(row)
        return HouseholdData(
            fields=fields,
            persons=persons,
            other_municipalities=self.other_municipalities.data or [],
            tags=self.tag_list(),
        )


class StageForm(BaseForm):
    stage = SelectField(_l("Stage"), choices=choices(Stage))
    close_reason = OptionalSelectField(
        _l("Reason for closing"), choices=choices(CloseReason, _l("- choose -"))
    )
    comment = StringField(_l("Comment"), validators=[Length(max=500), NoIdentityNumber()])

    def validate_close_reason(self, field):
        if self.stage.data == Stage.CLOSED and not field.data:
            raise ValidationError(_l("Closing a household needs a reason."))


class NoteForm(BaseForm):
    text = TextAreaField(
        _l("Note"),
        validators=[InputRequired(), Length(max=2000), NoIdentityNumber()],
        description=SHORT_NOTE,
    )


class MergeForm(BaseForm):
    other_id = IntegerField(
        _l("Number of the household to merge into this one"),
        validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)],
        description=_l("Its contacts, follow-ups and history move here; then it is deleted."),
    )


class GuideChoiceForm(BaseForm):
    user_id = SelectField(_l("Guide"), choices=[], coerce=int)

    def __init__(self, *args, guides=(), label=None, **kwargs):
        """``guides``: rows of id, name and municipality (the municipality's name)."""
        super().__init__(*args, **kwargs)
        if label:
            self.user_id.label.text = label
        self.user_id.choices = [(g.id, f"{g.name} ({g.municipality or ''})") for g in guides]


SORTS = {
    "-created": _l("Newest first"),
    "created": _l("Oldest first"),
    "name": _l("Name"),
    "last_contact": _l("Longest since contact"),
    "-last_contact": _l("Latest contact"),
    "move_date": _l("Moving date"),
}


class HouseholdFilterForm(GetForm):
    q = StringField(_l("Search"), validators=[Length(max=200)])
    # the selects' options: _filter_options, once per locale (and set of guides)
    stage = OptionalSelectField(_l("Stage"), choices=[])
    municipality = OptionalSelectField(_l("Municipality"), choices=[])
    guide = OptionalSelectField(_l("Guide"), choices=[], coerce=lambda v: int(v) if v else None)
    source = OptionalSelectField(_l("Source"), choices=[])
    tag = StringField(_l("Tag"), validators=[Length(max=40)])
    stale_days = IntegerField(
        _l("No contact for (days)"), validators=[Optional(), NumberRange(min=1, max=3650)]
    )
    sort = SelectField(_l("Sort"), choices=[], default="-created")
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100_000)], default=1)
    # set by the dashboard's links (lotsen/pipeline/listing.py), kept as hidden fields
    reached = OptionalSelectField(_l("Reached stage"), choices=[])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])
    converted = OptionalSelectField(_l("Has reached"), choices=[])
    stage_on = DateField(_l("Stage on"), validators=[Optional()])
    active = BooleanField(_l("Active only"))
    overdue = IntegerField(
        _l("Overdue follow-ups of"), validators=[Optional(), NumberRange(min=1, max=MAX_ID)]
    )

    # set by the event outcomes' links (lotsen/events/figures.py), kept likewise
    event = IntegerField(_l("Event"), validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
    event_outcome = OptionalSelectField(_l("Event outcome"), choices=[])

    HISTORY_FIELDS = ("reached", "since", "until", "converted", "stage_on", "active", "overdue")
    HISTORY_FIELDS += ("event", "event_outcome")

    def __init__(self, *args, municipalities=(), guides=(), **kwargs):
        super().__init__(*args, **kwargs)
        locale = str(get_locale())
        self.options = {"municipalities": municipalities, "guides": guides}
        self.options_key = (
            tuple((m.code, m.name) for m in municipalities),
            tuple((g.id, g.name) for g in guides),
        )
        options = _filter_options(locale, *self.options_key)
        for name, option_list in options.items():
            self[name].choices = option_list
        for name, text in _filter_labels(locale).items():
            self[name].label.text = text

    @property
    def field_names(self) -> tuple[str, ...]:
        """The fields' names in order: the query-string keys the list's links carry over."""
        return tuple(self._fields)


def _plain(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, str(text)) for value, text in pairs]


@lru_cache(maxsize=64)
def _filter_options(locale: str, municipalities: tuple, guides: tuple) -> dict[str, list]:
    """The filter's option lists, translated once per locale and set of guides: rendering
    a lazy label costs a translation look-up each time, on every list request."""
    from lotsen.events.figures import OUTCOMES

    return {
        "stage": _plain(choices(Stage, _l("All stages"))),
        "source": _plain(choices(Source, _l("All sources"))),
        "sort": _plain(SORTS.items()),
        "municipality": _plain(
            [
                ("", _l("All municipalities")),
                ("none", _l("Not sure yet (regional inbox)")),
                *municipalities,
            ]
        ),
        "guide": _plain([("", _l("All guides")), *guides]),
        "event_outcome": _plain([("", ""), *((o, o) for o in OUTCOMES)]),
        "reached": _plain(choices(Stage, "")),
        "converted": _plain(choices(Stage, "")),
    }


@lru_cache(maxsize=16)
def _filter_labels(locale: str) -> dict[str, str]:
    """The filter's labels translated once per locale, like its options."""
    return {
        name: _label(unbound)
        for name, unbound in vars(HouseholdFilterForm).items()
        if isinstance(unbound, UnboundField) and (unbound.args or "label" in unbound.kwargs)
    }


def field_label(name: str) -> str:
    """The form label of a household field, for "what changed" lines on the timeline."""
    unbound = getattr(HouseholdForm, name, None)
    if unbound is None:
        return name
    return _label(unbound)


def _label(unbound: UnboundField) -> str:
    return str(unbound.kwargs.get("label") or unbound.args[0])
