from dataclasses import dataclass
from functools import cache

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, StringField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from lotsen.audit.minimise import NoIdentityNumber
from lotsen.contacts.models import CHANNEL_LABELS, DIRECTION_LABELS, Channel, Direction
from lotsen.forms import BaseForm, OptionalSelectField, RadioField, SelectField
from lotsen.households.forms import SHORT_NOTE

SNOOZE_CHOICES = [("tomorrow", _l("Tomorrow")), ("week", _l("Next week"))]


class FollowUpForm(BaseForm):
    title = StringField(_l("What to do"), validators=[InputRequired(), Length(max=200)])
    due_on = DateField(_l("Due date"), validators=[InputRequired()])
    due_time = TimeField(
        _l("Time (optional)"),
        validators=[Optional()],
        description=_l("With a time, the assignee gets a reminder by e-mail when it is due."),
    )
    assignee_id = OptionalSelectField(
        _l("Assignee"), choices=[], coerce=lambda v: int(v) if v else None
    )
    note = TextAreaField(
        _l("Note"), validators=[Length(max=1000), NoIdentityNumber()], description=SHORT_NOTE
    )

    def __init__(self, *args, guides=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.assignee_id.choices = [
            ("", _l("The household's guide")),
            *[(g.id, g.name) for g in guides],
        ]


class CompleteForm(BaseForm):
    """Complete a follow-up, optionally logging the contact it was about in the same step."""

    log_contact = BooleanField(_l("Also log a contact"))
    channel = SelectField(
        _l("Channel"), choices=list(CHANNEL_LABELS.items()), default=Channel.PHONE
    )
    direction = RadioField(
        _l("Direction"), choices=list(DIRECTION_LABELS.items()), default=Direction.OUTGOING
    )
    summary = TextAreaField(
        _l("Summary"), validators=[Length(max=2000), NoIdentityNumber()], description=SHORT_NOTE
    )

    def validate_summary(self, field):
        if self.log_contact.data and not field.data:
            raise ValidationError(_l("Write a short summary of the contact."))


class RescheduleForm(BaseForm):
    due_on = DateField(_l("New date"), validators=[InputRequired()])
    due_time = TimeField(_l("Time (optional)"), validators=[Optional()])


class SnoozeForm(BaseForm):
    until = SelectField(_l("Snooze until"), choices=SNOOZE_CHOICES)


class BulkFollowUpForm(BaseForm):
    bulk_title = StringField(_l("What to do"), validators=[InputRequired(), Length(max=200)])
    bulk_due_on = DateField(_l("Due date"), validators=[InputRequired()])


class RuleForm(BaseForm):
    """A rule's switch; ``rule_form`` adds one whole-number field per parameter."""

    enabled = BooleanField(_l("On"))
    param_names: tuple[str, ...] = ()

    def params(self) -> dict[str, int]:
        return {name: self[name].data for name in self.param_names}


@cache
def _rule_form_class(rule) -> type[RuleForm]:
    fields = {
        p.name: IntegerField(
            p.label, validators=[InputRequired(), NumberRange(min=p.min, max=p.max)]
        )
        for p in rule.params
    }
    names = tuple(fields)
    return type(f"{type(rule).__name__}Form", (RuleForm,), {**fields, "param_names": names})


def rule_form(rule, enabled: bool | None = None, params: dict | None = None) -> RuleForm:
    """The rules page's form for ``rule``: from the request on POST, else from the stored
    ``enabled`` and ``params``."""
    data = None if params is None else {"enabled": enabled, **params}
    return _rule_form_class(rule)(prefix=rule.name, data=data)


@dataclass
class ActionForms:
    """The forms under one follow-up on "my day" and the household page with fields of their
    own (snoozing is two buttons: a refused snooze only opens the follow-up's actions)."""

    complete: CompleteForm
    reschedule: RescheduleForm
    failed: bool = False  # one of them did not validate: show its errors


def action_forms(followup, failed: tuple[int, BaseForm] | None = None) -> ActionForms:
    """Empty action forms for ``followup`` with ids of its own (many are on one page), or
    the form in ``failed`` (follow-up id, form) when it was for this follow-up."""
    forms = {
        "complete": CompleteForm(formdata=None),
        "reschedule": RescheduleForm(formdata=None, obj=followup),
    }
    is_failed = failed is not None and failed[0] == followup.id
    if is_failed:
        for name, form in forms.items():
            if type(form) is type(failed[1]):
                forms[name] = failed[1]
    for form in forms.values():
        for field in form:
            if not field.id.endswith(f"-{followup.id}"):
                field.id = f"{field.id}-{followup.id}"
                field.label.field_id = field.id
    return ActionForms(**forms, failed=is_failed)
