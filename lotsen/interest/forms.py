import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import BooleanField, EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from lotsen import clock
from lotsen.forms import BaseForm, MultiCheckboxField, OptionalSelectField, RadioField
from lotsen.households.forms import country_choices, normalise_phone
from lotsen.households.vocab import (
    LABELS,
    LANGUAGES,
    HousingType,
    Source,
    Tenure,
    Timeframe,
    choices,
)

MAX_CHILDREN = 10
TIMEFRAMES = {t.value: LABELS[t] for t in Timeframe}
PUBLIC_SOURCES = [s for s in Source if s not in (Source.INTEREST_FORM, Source.RETURNEE_MAILING)]


def _started_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="interest-started")


def started_token() -> str:
    return _started_serializer().dumps(clock.now().timestamp())


def seconds_since(token: str) -> float | None:
    """How long ago the form was opened; None when the stamp is missing or forged."""
    try:
        started = _started_serializer().loads(token, max_age=24 * 3600)
    except (BadSignature, TypeError):
        return None
    return clock.now().timestamp() - float(started)


class MoverFields(BaseForm):
    """Who writes: the public forms' (interest, event sign-up) own person fields."""

    first_name = StringField(
        _l("First name"),
        validators=[InputRequired(), Length(max=80)],
        render_kw={"autocomplete": "given-name"},
    )
    last_name = StringField(
        _l("Last name"),
        validators=[InputRequired(), Length(max=80)],
        render_kw={"autocomplete": "family-name"},
    )
    email = EmailField(
        _l("E-mail"),
        validators=[InputRequired(), Email(check_deliverability=False), Length(max=254)],
        render_kw={"autocomplete": "email"},
        description=_l("We send you a link to confirm your address."),
    )
    phone = StringField(
        _l("Phone (optional)"),
        validators=[Optional(), Length(max=40)],
        description=_l("With country code, e.g. +31 6 12345678."),
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )


class InterestForm(MoverFields):
    country = OptionalSelectField(
        _l("Country you live in"), choices=[], render_kw={"autocomplete": "country"}
    )
    town = StringField(
        _l("Town (optional)"),
        validators=[Length(max=100)],
        render_kw={"autocomplete": "address-level2"},
    )
    language = OptionalSelectField(
        _l("Language we should use with you"),
        choices=[("", _l("- choose -")), *LANGUAGES.items()],
    )
    occupation = StringField(
        _l("Your occupation (optional)"),
        validators=[Length(max=120)],
        render_kw={"autocomplete": "organization-title"},
    )
    seeks_job = BooleanField(_l("I am looking for a job in the area"))
    partner_name = StringField(_l("Partner's first name (optional)"), validators=[Length(max=80)])
    partner_occupation = StringField(
        _l("Partner's occupation (optional)"), validators=[Length(max=120)]
    )
    partner_seeks_job = BooleanField(_l("My partner is looking for a job in the area"))
    children = StringField(
        _l("Children's ages (optional)"),
        validators=[Length(max=60)],
        description=_l("Separate with commas, e.g. 4, 9."),
    )
    primary = RadioField(_l("Where would you most like to live?"), choices=[], default="")
    others = MultiCheckboxField(_l("Other municipalities you are interested in"), choices=[])
    housing_tenure = OptionalSelectField(
        _l("Rent or buy"), choices=choices(Tenure, _l("- choose -"))
    )
    housing_type = OptionalSelectField(
        _l("Type of home"), choices=choices(HousingType, _l("- choose -"))
    )
    housing_wishes = TextAreaField(
        _l("Wishes for your home (optional)"), validators=[Length(max=500)]
    )
    timeframe = OptionalSelectField(
        _l("When would you like to move?"),
        choices=[("", _l("- choose -")), *TIMEFRAMES.items()],
    )
    source = OptionalSelectField(
        _l("How did you hear about us?"),
        choices=[("", _l("- choose -")), *[(s.value, LABELS[s]) for s in PUBLIC_SOURCES]],
    )
    message = TextAreaField(
        _l("Anything else you want to tell us? (optional)"), validators=[Length(max=2000)]
    )
    consent = BooleanField(
        _l(
            "I agree that Move Up North stores and uses my details to help me move here, "
            "as the privacy notice describes."
        ),
        validators=[InputRequired(message=_l("We need your consent to help you."))],
    )
    privacy_version = HiddenField()
    started = HiddenField()
    website = StringField(_l("Leave this field empty"))  # the honeypot; hidden from people

    def __init__(self, *args, municipalities=(), **kwargs):
        super().__init__(*args, **kwargs)
        muni = [(m.code, m.name) for m in municipalities]
        self.primary.choices = [*muni, ("", _l("Not sure yet"))]
        self.others.choices = muni
        self.country.choices = country_choices()

    def validate_phone(self, field):
        if field.data:
            field.data = normalise_phone(field.data, self.country.data)

    def validate_email(self, field):
        field.data = field.data.strip().lower()

    def validate_children(self, field):
        if not field.data:
            return
        parts = [p for p in re.split(r"[,;\s]+", field.data) if p]
        if not all(p.isdigit() and int(p) <= 25 for p in parts) or len(parts) > MAX_CHILDREN:
            raise ValidationError(_l("Give the ages as numbers, e.g. 4, 9."))

    def child_ages(self) -> list[int]:
        return [int(p) for p in re.split(r"[,;\s]+", self.children.data or "") if p]

    def is_bot(self) -> bool:
        """Honeypot filled in, or sent faster than a person fills in a form."""
        if self.website.data:
            return True
        elapsed = seconds_since(self.started.data or "")
        return elapsed is None or elapsed < current_app.config["INTEREST_MIN_FILL_SECONDS"]

    SUBMITTED = (
        "first_name",
        "last_name",
        "email",
        "phone",
        "country",
        "town",
        "language",
        "occupation",
        "seeks_job",
        "partner_name",
        "partner_occupation",
        "partner_seeks_job",
        "primary",
        "others",
        "housing_tenure",
        "housing_type",
        "housing_wishes",
        "timeframe",
        "source",
        "message",
    )

    def submission_data(self) -> dict:
        """What is stored of a valid form (plain JSON values, for ``submit``)."""
        data = {name: self[name].data for name in self.SUBMITTED}
        data["primary"] = data["primary"] or None
        data["others"] = [c for c in data["others"] if c != data["primary"]]
        data["children"] = self.child_ages()
        return data
