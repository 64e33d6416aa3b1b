from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import Email, EqualTo, InputRequired, Length, Optional, ValidationError

from lotsen.accounts.models import Role
from lotsen.accounts.services import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from lotsen.forms import BaseForm, MultiCheckboxField, OptionalSelectField, SelectField

LOCALE_CHOICES = [("sv", "Svenska"), ("en", "English")]
ROLE_LABELS = {
    Role.GUIDE: _l("Guide"),
    Role.COORDINATOR: _l("Coordinator"),
    Role.ADMIN: _l("Administrator"),
    Role.COMMUNICATOR: _l("Communicator"),
}
NEW_PASSWORD = [
    Length(
        min=MIN_PASSWORD_LENGTH,
        max=MAX_PASSWORD_LENGTH,
        message=_l(
            "The password must be at least %(min)d characters long.", min=MIN_PASSWORD_LENGTH
        ),
    )
]


class CodeForm(BaseForm):
    code = StringField(
        _l("Code"),
        validators=[InputRequired(), Length(max=40)],
        description=_l("The six digits your authenticator app shows, or a recovery code."),
        render_kw={"autocomplete": "one-time-code", "inputmode": "text"},
    )


class LoginForm(BaseForm):
    email = EmailField(
        _l("E-mail"),
        validators=[InputRequired(), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )


class SettingsForm(BaseForm):
    locale = SelectField(_l("Language"), choices=LOCALE_CHOICES)
    notify_reminders = BooleanField(_l("E-mail me when a follow-up with a time falls due"))
    notify_digest = BooleanField(
        _l("E-mail me a digest of overdue and today's follow-ups at 07:00 on working days")
    )


class PasswordForm(BaseForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[InputRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[InputRequired(), *NEW_PASSWORD],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[InputRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class UserForm(BaseForm):
    # someone else's address and name: the browser must not fill in the admin's own
    email = EmailField(
        _l("E-mail"),
        validators=[InputRequired(), Email(), Length(max=254)],
        render_kw={"autocomplete": "off"},
    )
    name = StringField(
        _l("Name"),
        validators=[InputRequired(), Length(max=120)],
        render_kw={"autocomplete": "off"},
    )
    role = SelectField(_l("Role"), choices=[(r.value, label) for r, label in ROLE_LABELS.items()])
    municipality_code = OptionalSelectField(_l("Municipality (guides)"), choices=[])
    extra_municipalities = MultiCheckboxField(_l("Also works for"), choices=[])
    locale = SelectField(_l("Language"), choices=LOCALE_CHOICES)
    active = BooleanField(_l("Active"), default=True)
    password = PasswordField(
        _l("Password"),
        validators=[Optional(), *NEW_PASSWORD],
        render_kw={"autocomplete": "new-password"},
    )

    def __init__(self, *args, municipalities=(), require_password=False, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(m.code, m.name) for m in municipalities]
        self.municipality_code.choices = [("", _l("- none -")), *choices]
        self.extra_municipalities.choices = choices
        if require_password:
            required = InputRequired(message=_l("A new account needs a password."))
            self.password.validators = [required, *NEW_PASSWORD]

    def validate_municipality_code(self, field):
        if self.role.data == Role.GUIDE and not field.data:
            raise ValidationError(_l("A guide needs a municipality."))
