from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from wtforms import DateField, DateTimeLocalField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from lotsen import clock
from lotsen.audit.minimise import NoIdentityNumber
from lotsen.contacts.models import CHANNEL_LABELS, DIRECTION_LABELS, Channel, Direction
from lotsen.forms import BaseForm, RadioField, SelectField, SubmitOnce
from lotsen.households.forms import SHORT_NOTE


class ContactForm(SubmitOnce, BaseForm):
    channel = SelectField(
        _l("Channel"), choices=list(CHANNEL_LABELS.items()), default=Channel.PHONE
    )
    direction = RadioField(
        _l("Direction"), choices=list(DIRECTION_LABELS.items()), default=Direction.OUTGOING
    )
    at = DateTimeLocalField(
        _l("Date and time"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"], validators=[Optional()]
    )
    summary = TextAreaField(
        _l("Summary"),
        validators=[InputRequired(), Length(max=2000), NoIdentityNumber()],
        description=SHORT_NOTE,
    )
    next_followup_on = DateField(_l("Next follow-up"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_submitted() and self.at.data is None:
            self.at.data = clock.local_now().replace(second=0, microsecond=0, tzinfo=None)

    def validate_at(self, field):
        if field.data and self.at_utc() > clock.now().replace(second=59):
            raise ValidationError(_l("A contact cannot be in the future."))

    def validate_next_followup_on(self, field):
        if field.data and field.data < clock.today():
            raise ValidationError(_l("The next follow-up cannot be in the past."))

    def at_utc(self) -> datetime:
        """The contact time in UTC (the form's local time is Europe/Stockholm)."""
        if self.at.data is None:
            return clock.now()
        return self.at.data.replace(tzinfo=clock.ZONE).astimezone(UTC)
