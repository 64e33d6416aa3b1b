from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, ValidationError

from lotsen import clock
from lotsen.forms import BaseForm, GetForm, SelectField
from lotsen.privacy.consents import HOW_LABELS, LEGAL_BASIS_LABELS, PURPOSE_LABELS
from lotsen.privacy.models import ConsentHow
from lotsen.urls import MAX_ID

# Ways staff record by hand; the others are recorded by the form, import, unsubscribe link …
STAFF_HOW = [ConsentHow.FORM, ConsentHow.IN_PERSON, ConsentHow.EMAIL, ConsentHow.PHONE]


class ConsentForm(BaseForm):
    purpose = SelectField(_l("Purpose"), choices=list(PURPOSE_LABELS.items()))
    text_version = StringField(
        _l("Version of the text shown"),
        validators=[InputRequired(), Length(max=40)],
        description=_l("E.g. the date of the privacy notice the person read."),
    )
    how = SelectField(_l("How it was given"), choices=[(h.value, HOW_LABELS[h]) for h in STAFF_HOW])


class WithdrawForm(BaseForm):
    how = SelectField(
        _l("How it was withdrawn"), choices=[(h.value, HOW_LABELS[h]) for h in STAFF_HOW]
    )


class LegalBasisForm(BaseForm):
    legal_basis = SelectField(_l("Legal basis"), choices=list(LEGAL_BASIS_LABELS.items()))


class HoldForm(BaseForm):
    until = DateField(_l("Keep until"), validators=[InputRequired()])
    reason = StringField(
        _l("Reason to keep it longer"), validators=[InputRequired(), Length(max=300)]
    )

    def validate_until(self, field):
        if field.data is None:
            return  # not a date: the field's own error says so
        today = clock.today()
        if field.data <= today:
            raise ValidationError(_l("The date must be in the future."))
        if (field.data - today).days > 3 * 366:
            raise ValidationError(_l("A hold can last at most three years."))


class AnonymiseForm(BaseForm):
    understood = BooleanField(
        _l("I understand that names, contact details and notes are removed for good."),
        validators=[InputRequired()],
    )
    confirm_id = IntegerField(
        _l("Type the household's number again to confirm"),
        validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)],
    )


class FindForm(GetForm):
    household = IntegerField(
        _l("Number of the household to anonymise"),
        validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)],
    )
