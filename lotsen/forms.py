"""Form base class and shared fields."""

import secrets
from functools import lru_cache

from babel import support
from flask import current_app, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy import Row
from wtforms import FieldList, Form, FormField, HiddenField, SelectChoice, widgets
from wtforms import RadioField as _RadioField
from wtforms import SelectField as _SelectField
from wtforms import SelectMultipleField as _SelectMultipleField
from wtforms.i18n import messages_path
from wtforms.validators import ValidationError

from lotsen.form_html import Select, _text_key, hidden_input
from lotsen.kept import kept


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class _StripMeta:
    def bind_field(self, form, unbound_field, options):
        if issubclass(unbound_field.field_class, FieldList | FormField):
            return unbound_field.bind(form=form, **options)
        filters = [*unbound_field.kwargs.get("filters", ()), _strip]
        return unbound_field.bind(form=form, filters=filters, **options)


class BaseForm(FlaskForm):
    """Strips surrounding whitespace from every text input; CSRF-protected."""

    class Meta(_StripMeta):
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _wtforms_translations

        def render_field(self, field, render_kw):
            # A page carries a dozen hidden inputs (each form's CSRF token): only their
            # value changes, so WTForms renders each kind once and the value is put in.
            if render_kw or field.render_kw or type(field.widget) is not widgets.HiddenInput:
                return super().render_field(field, render_kw)
            before, after = hidden_input(field)
            return before + escape(field._value()) + after


class _WTFormsTranslations:
    """WTForms' own messages ("Not a valid choice.") in the request's language, as
    Flask-WTF gives them, but with each language's catalogue read once per process:
    Flask-WTF reads and parses it from disk in every request that builds a form."""

    def gettext(self, string):
        catalogue = _wtforms_catalogue(get_locale())
        return string if catalogue is None else catalogue.ugettext(string)

    def ngettext(self, singular, plural, n):
        catalogue = _wtforms_catalogue(get_locale())
        if catalogue is None:
            return singular if n == 1 else plural
        return catalogue.ungettext(singular, plural, n)


_wtforms_translations = _WTFormsTranslations()


@lru_cache(maxsize=32)
def _wtforms_catalogue(locale):
    if locale is None:  # outside a request
        return None
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class StrippedForm(Form):
    """For sub-forms (``FormField``) inside a ``BaseForm``."""

    class Meta(_StripMeta):
        pass


class GetForm(BaseForm):
    """A filter form read from the query string (no CSRF: it changes nothing)."""

    class Meta(_StripMeta):
        csrf = False


class _Choices:
    """Lets choices be given as (value, label) pairs, WTForms' long-standing form, which
    WTForms 3.3 deprecates in favour of ``SelectChoice``."""

    def __init__(self, label=None, validators=None, choices=None, **kwargs):
        super().__init__(label, validators, choices=_select_choices(choices), **kwargs)

    @property
    def choices(self):
        return self._choices

    @choices.setter
    def choices(self, value):
        self._choices = _select_choices(value)


def _select_choices(value):
    if value is None:
        return None
    return [c if isinstance(c, SelectChoice) else SelectChoice(*c) for c in value]


class SelectField(_Choices, _SelectField):
    widget = Select()


class RadioField(_Choices, _RadioField):
    pass


class SelectMultipleField(_Choices, _SelectMultipleField):
    pass


class OptionalSelectField(SelectField):
    """A select whose empty choice means None."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data == "":
            self.data = None

    def pre_validate(self, form):
        if self.data is None:
            return
        super().pre_validate(form)


class MultiCheckboxField(SelectMultipleField):
    """Rendered as a group of checkboxes; unknown values are rejected."""

    def pre_validate(self, form):
        valid = {str(v) for v, *_ in self.iter_choices()}
        for value in self.data or ():
            if str(value) not in valid:
                raise ValidationError(_l("Not a valid choice."))


DONE_FORMS_KEPT = 20


class SubmitOnce:
    """A form mixin against double submits (a double click, a resent POST): each rendered
    form carries a random key; a key already used in this session leads to what its first
    submit made instead of making it again."""

    once = HiddenField(default=lambda: secrets.token_urlsafe(12))

    def done_before(self) -> str | None:
        """Where the first submit of this form went, if it was submitted already."""
        return session.get("done_forms", {}).get(self.once.data) if self.once.data else None

    def remember_done(self, url: str) -> None:
        if not self.once.data:
            return
        done = dict(session.get("done_forms", {}))
        done[self.once.data] = url
        session["done_forms"] = dict(list(done.items())[-DONE_FORMS_KEPT:])


# -- empty forms drawn on every view of a page ------------------------------------------------

BLANK_FORMS_KEPT = 200  # a few per guide list, stage, event choice; the contact form per minute


def blank_form(form_class: type[BaseForm], *key, **kwargs):
    """An empty form to draw (``formdata=None``), built once per class, constructor
    arguments, ``key`` (whatever else its constructor reads, e.g. the minute) and locale,
    and shared by the requests that draw it: building a form costs more than drawing its
    kept fields, and the household page draws a dozen. Made per request is what must be:
    the CSRF token and random defaults (``SubmitOnce``'s key). For drawing only: a view
    that reads a submission builds its own form (and passes that to show its errors)."""
    store = current_app.extensions.setdefault("lotsen_blank_forms", {})  # per app: its config
    try:
        cache_key = (form_class, str(get_locale()), key, _frozen(kwargs))
        hash(cache_key)
    except TypeError:  # an argument that cannot be a key
        return form_class(formdata=None, **kwargs)
    return kept(
        store, cache_key, lambda: _Blank(form_class(formdata=None, **kwargs)), BLANK_FORMS_KEPT
    )


def _frozen(value):
    """``value`` as a key: lists (of rows, of pairs) as tuples, which hash by value (rows
    as plain tuples: they compare in C, a Row in Python)."""
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(map(tuple, value)) if value and isinstance(value[0], Row) else tuple(value)
    if isinstance(value, LazyString):
        return _text_key(value)
    return value


class _Blank:
    """The shared empty form: its fields draw from ``kept_field``'s per-field store
    (``_blank_html``); the CSRF token and random hidden defaults are drawn per request."""

    def __init__(self, form: BaseForm):
        self._form = form
        self._fresh = {}
        for field in form:
            if field.type == "CSRFTokenField" or (
                field.type == "HiddenField" and callable(field.default)
            ):
                self._fresh[field.short_name] = field
                # drawn only through ``_FreshHidden``: no other request's value to leak
                field.current_token = field.data = None
            elif callable(field.default):
                raise TypeError(f"{field.name}: a default made per form cannot be shared")
            else:
                field._blank_html = {}

    def validate(self, *args, **kwargs):
        raise TypeError("a shared empty form is for drawing: build a form to read a submission")

    process = populate_obj = validate_on_submit = validate

    def __getattr__(self, name):
        fresh = self._fresh.get(name)
        return _FreshHidden(fresh) if fresh is not None else getattr(self._form, name)

    def __iter__(self):
        return iter(self._form)

    def __contains__(self, name):
        return name in self._form

    def __getitem__(self, name):
        return self._form[name]


class _FreshHidden:
    """A shared form's hidden input with this request's value."""

    __slots__ = ("field",)

    def __init__(self, field):
        self.field = field

    def value(self) -> str:
        field = self.field
        if field.type == "CSRFTokenField":
            return field.csrf_impl.generate_csrf_token(field)
        return field.default()

    def __call__(self) -> Markup:
        before, after = hidden_input(self.field)
        return before + escape(self.value()) + after

    __html__ = __str__ = __call__
