"""The public sign-up form of an event: the interest form's fields, consent, and spam traps."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, IntegerField, StringField
from wtforms.validators import InputRequired, NumberRange

from lotsen.forms import OptionalSelectField
from lotsen.households.forms import country_choices, normalise_phone
from lotsen.households.vocab import LANGUAGES
from lotsen.interest.forms import MoverFields, seconds_since

MAX_PEOPLE = 10


class EventSignupForm(MoverFields):
    people = IntegerField(
        _l("Number of people"),
        default=1,
        validators=[
            InputRequired(message=_l("Give a number from 1 to %(max)d.", max=MAX_PEOPLE)),
            NumberRange(
                min=1,
                max=MAX_PEOPLE,
                message=_l("Give a number from 1 to %(max)d.", max=MAX_PEOPLE),
            ),
        ],
        description=_l("Yourself included, at most %(max)d.", max=MAX_PEOPLE),
        render_kw={"inputmode": "numeric", "min": 1, "max": MAX_PEOPLE},
    )
    country = OptionalSelectField(
        _l("Country you live in"), choices=[], render_kw={"autocomplete": "country"}
    )
    language = OptionalSelectField(
        _l("Language we should use with you"),
        choices=[("", _l("- choose -")), *LANGUAGES.items()],
    )
    consent = BooleanField(
        _l(
            "I agree that Move Up North stores and uses my details to help me move here, "
            "as the privacy notice describes."
        ),
        validators=[InputRequired(message=_l("We need your consent to help you."))],
    )
    newsletter = BooleanField(_l("Send me the Move Up North newsletter (optional)"))
    privacy_version = HiddenField()
    started = HiddenField()
    website = StringField(_l("Leave this field empty"))  # the honeypot; hidden from people

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()

    def validate_phone(self, field):
        if field.data:
            field.data = normalise_phone(field.data, self.country.data)

    def validate_email(self, field):
        field.data = field.data.strip().lower()

    def is_bot(self) -> bool:
        """Honeypot filled in, or sent faster than a person fills in a form."""
        if self.website.data:
            return True
        elapsed = seconds_since(self.started.data or "")
        return elapsed is None or elapsed < current_app.config["INTEREST_MIN_FILL_SECONDS"]

    def submission_data(self, source: str, primary: str | None) -> dict:
        """What is stored (plain JSON values): the interest form's keys, so that the same
        household rules read it."""
        return {
            "first_name": self.first_name.data,
            "last_name": self.last_name.data,
            "email": self.email.data,
            "phone": self.phone.data or None,
            "country": self.country.data or None,
            "language": self.language.data or None,
            "people": self.people.data,
            "newsletter": bool(self.newsletter.data),
            "primary": primary,
            "others": [],
            "children": [],
            "source": source,
        }
