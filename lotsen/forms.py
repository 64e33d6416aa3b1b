"""Form base class and shared fields."""

import secrets
from functools import lru_cache

from flask import session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import FieldList, Form, FormField, HiddenField, SelectChoice, widgets
from wtforms import RadioField as _RadioField
from wtforms import SelectField as _SelectField
from wtforms import SelectMultipleField as _SelectMultipleField
from wtforms.fields.choices import Choice
from wtforms.validators import ValidationError


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
        pass


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


class Select(widgets.Select):
    """A select whose options with plain-text labels are rendered once per process: the
    same few dozen options are on every list page, each costing an escape and a format."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        label = choice.label
        if isinstance(label, LazyString):  # translated per locale
            label = (_Lazy(label), str(get_locale()))
        elif not isinstance(label, str | None):
            return super().render_option(choice, **kwargs)
        try:
            return _option(choice.value, label, bool(choice.selected))
        except TypeError:  # a lazy label with an unhashable argument
            return super().render_option(choice, **kwargs)


class _Lazy:
    """A lazy label as a cache key: equal to another made by the same call (function and
    arguments), which needs no translation look-up (the work the cache saves). Forms that
    build their choices per request make a new lazy label each time (``("", _l("All"))``):
    compared as objects, each request added entries until the cache was full."""

    __slots__ = ("label", "key")

    def __init__(self, label: LazyString):
        self.label = label
        self.key = (label._func, label._args, tuple(sorted(label._kwargs.items())))

    def __hash__(self):
        return hash(self.key)

    def __eq__(self, other):
        return isinstance(other, _Lazy) and other.key == self.key


@lru_cache(maxsize=4096)
def _option(value, label, selected) -> Markup:
    if isinstance(label, tuple):
        label = str(label[0].label)
    return widgets.Select.render_option(Choice(value, label, selected, {}))


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
