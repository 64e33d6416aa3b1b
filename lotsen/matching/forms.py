from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, IntegerField, StringField, URLField
from wtforms.validators import URL, InputRequired, Length, NumberRange, Optional, Regexp

from lotsen.forms import BaseForm, GetForm, OptionalSelectField, RadioField, SelectField
from lotsen.matching.vocab import (
    Extent,
    JobStatus,
    ListingStatus,
    ListingTenure,
    ListingType,
    choices,
)
from lotsen.urls import MAX_ID


def municipality_choices(municipalities) -> list[tuple[str, str]]:
    return [(m.code, m.name) for m in municipalities]


class ListingForm(BaseForm):
    municipality_code = SelectField(_l("Municipality"), validators=[InputRequired()])
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    area = StringField(_l("Area or village"), validators=[Optional(), Length(max=120)])
    address = StringField(  # the home's address, not the one the browser knows for the user
        _l("Address"), validators=[Optional(), Length(max=200)], render_kw={"autocomplete": "off"}
    )
    tenure = SelectField(_l("Tenure"), choices=choices(ListingTenure))
    type = SelectField(_l("Type"), choices=choices(ListingType))
    rooms = IntegerField(_l("Rooms"), validators=[Optional(), NumberRange(1, 50)])
    living_area = IntegerField(
        _l("Living area (m²)"), validators=[Optional(), NumberRange(1, 5000)]
    )
    rent = IntegerField(_l("Rent per month (kr)"), validators=[Optional(), NumberRange(0, 10**6)])
    price = IntegerField(_l("Price (kr)"), validators=[Optional(), NumberRange(0, 10**9)])
    available_from = DateField(_l("Available from"), validators=[Optional()])
    contact = StringField(_l("Landlord or contact"), validators=[Optional(), Length(max=200)])
    url = URLField(_l("Link"), validators=[Optional(), URL(), Length(max=500)])
    status = SelectField(_l("Status"), choices=choices(ListingStatus))

    def __init__(self, *args, municipalities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.municipality_code.choices = municipality_choices(municipalities)

    def data_dict(self) -> dict:
        return {name: self[name].data or None for name in self._fields if name != "csrf_token"} | {
            "title": self.title.data
        }


class JobForm(BaseForm):
    municipality_code = SelectField(_l("Municipality"), validators=[InputRequired()])
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    employer = StringField(_l("Employer"), validators=[Optional(), Length(max=200)])
    occupation = StringField(_l("Occupation"), validators=[Optional(), Length(max=200)])
    ssyk_code = StringField(
        _l("SSYK code"),
        validators=[Optional(), Regexp(r"^\d{4}$", message=_l("Four digits, e.g. 2221."))],
    )
    extent = OptionalSelectField(_l("Extent"), choices=choices(Extent, blank=_l("Not known")))
    employment_type = StringField(_l("Employment type"), validators=[Optional(), Length(max=100)])
    last_application_date = DateField(_l("Last application date"), validators=[Optional()])
    url = URLField(_l("Link"), validators=[Optional(), URL(), Length(max=500)])
    status = SelectField(_l("Status"), choices=choices(JobStatus))

    def __init__(self, *args, municipalities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.municipality_code.choices = municipality_choices(municipalities)

    def data_dict(self) -> dict:
        return {name: self[name].data or None for name in self._fields if name != "csrf_token"} | {
            "title": self.title.data
        }


class ImportForm(BaseForm):
    file = FileField(_l("CSV file"))
    text = HiddenField()  # the previewed file, sent again to import it

    def csv_text(self) -> str | None:
        if self.file.data:
            raw = self.file.data.read()
            for encoding in ("utf-8-sig", "cp1252"):
                try:
                    return raw.decode(encoding)
                except UnicodeDecodeError:
                    continue
        return self.text.data or None


class ListFilterForm(GetForm):
    municipality = OptionalSelectField(_l("Municipality"))
    status = OptionalSelectField(_l("Status"))
    page = IntegerField(validators=[Optional(), NumberRange(1, 10_000)])

    def __init__(self, *args, municipalities=(), statuses=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.municipality.choices = [("", _l("All")), *municipality_choices(municipalities)]
        self.status.choices = [("", _l("All")), *choices(statuses)]


class StatusForm(BaseForm):
    status = SelectField(_l("Status"))


class SuggestForm(BaseForm):
    listing_id = IntegerField(validators=[Optional(), NumberRange(1, MAX_ID)])
    job_id = IntegerField(validators=[Optional(), NumberRange(1, MAX_ID)])
    person_id = IntegerField(validators=[Optional(), NumberRange(1, MAX_ID)])
    next = HiddenField()


class RespondForm(BaseForm):
    answer = RadioField(
        _l("The household's answer"),
        choices=[("interested", _l("Interested")), ("declined", _l("Declined"))],
        validators=[InputRequired()],
    )
    reason = StringField(_l("Reason (when declined)"), validators=[Optional(), Length(max=300)])
    next = HiddenField()
