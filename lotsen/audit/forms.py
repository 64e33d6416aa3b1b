from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField
from wtforms.validators import NumberRange, Optional

from lotsen.audit.services import ACTION_GROUPS, ACTIONS
from lotsen.forms import GetForm, OptionalSelectField


class AuditFilterForm(GetForm):
    user = OptionalSelectField(_l("Person"), choices=[], coerce=lambda v: int(v) if v else None)
    household = IntegerField(
        _l("Household number"), validators=[Optional(), NumberRange(min=1, max=2**31 - 1)]
    )
    action = OptionalSelectField(_l("Action"), choices=[])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100_000)], default=1)

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user.choices = [("", _l("Anyone")), *[(u.id, u.name) for u in users]]
        self.action.choices = [
            ("", _l("All actions")),
            *ACTION_GROUPS.items(),
            *[(a, a) for a in ACTIONS],
        ]
