from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from lotsen.events.models import Event
from lotsen.extensions import db
from lotsen.forms import BaseForm, MultiCheckboxField, Select, SelectMultipleField
from lotsen.households.forms import country_choices
from lotsen.households.vocab import LANGUAGES, Stage, choices
from lotsen.regions.models import municipality_refs
from lotsen.workdays import local_date


class MultiSelectField(SelectMultipleField):
    """A ``<select multiple>`` (for long lists); unknown values are rejected. Its options
    are rendered once per process (lotsen/form_html.py ``Select``)."""

    widget = Select(multiple=True)

    def pre_validate(self, form):
        valid = {str(v) for v, *_ in self.iter_choices()}
        for value in self.data or ():
            if str(value) not in valid:
                raise ValidationError(_l("Not a valid choice."))


def event_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(Event.id, Event.name, Event.starts_at).order_by(Event.starts_at.desc(), Event.id)
    )
    return [(str(i), f"{name} ({local_date(at).isoformat()})") for i, name, at in rows]


class AudienceForm(BaseForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])
    municipalities = MultiCheckboxField(_l("Municipalities of interest"), choices=[])
    countries = MultiSelectField(
        _l("Countries"),
        choices=[],
        description=_l("Hold Ctrl (⌘ on a Mac) to choose more than one."),
    )
    languages = MultiCheckboxField(_l("Languages"), choices=list(LANGUAGES.items()))
    stages = MultiCheckboxField(_l("Stages"), choices=choices(Stage))
    events = MultiSelectField(
        _l("Attended events"),
        choices=[],
        description=_l("Hold Ctrl (⌘ on a Mac) to choose more than one."),
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.municipalities.choices = [(m.code, m.name) for m in municipality_refs()]
        self.countries.choices = country_choices()[1:]  # no "choose": none chosen is all
        self.events.choices = event_choices()

    def filters(self) -> dict[str, list]:
        return {
            key: list(getattr(self, key).data or [])
            for key in ("municipalities", "countries", "languages", "stages", "events")
        }

    def fill(self, filters: dict) -> None:
        for key, values in (filters or {}).items():
            if key in self._fields:
                self[key].data = [str(v) for v in values]


class DeleteForm(BaseForm):
    """Built with ``prefix="delete"``: it shares the page with the audience form."""

    confirm = BooleanField(
        _l("Yes, delete this audience"),
        validators=[InputRequired(message=_l("Tick the box to delete the audience."))],
    )
