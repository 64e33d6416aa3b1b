"""How form fields become HTML, and fast: every field through ``render_field``, empty
fields remembered per state (``kept_field``), select options and hidden inputs drawn once,
and WTForms' ``html_params`` without a ``Markup.format`` per attribute. A page draws dozens
of fields; this was most of its time."""

from datetime import date, time
from functools import lru_cache

from flask_babel import get_locale
from flask_babel.speaklater import LazyString
from markupsafe import Markup, escape
from wtforms import widgets
from wtforms.fields.choices import Choice
from wtforms.widgets import core as widget_core

from lotsen.kept import kept

WTFORMS_HTML_PARAMS = widget_core.html_params
QUOTE = Markup("&quot;")


def html_params(**kwargs) -> Markup:
    """WTForms' ``html_params``, the same markup four times as fast: WTForms builds every
    attribute with ``Markup.format`` (a ``string.Formatter`` pass each), and each input and
    each ``<option>`` of every form asks for it — the largest single cost of drawing a form.
    tests/test_forms.py compares both."""
    params = []
    for key, value in sorted(kwargs.items()):
        key = widget_core.clean_key(key)
        if value is True:
            params.append(escape(key))
        elif value is not False:
            value = escape(value).replace('"', QUOTE)  # quotes left in a Markup value
            params.append(f'{escape(key)}="{value}"')
    return Markup(" ".join(params))  # noqa: S704  (every key and value escaped above)


# markupsafe's five entities, for ``escape_text``
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"})


def escape_text(text: str) -> str:
    """``str(escape(text))`` for a plain string, in one C call (no ``Markup`` made): for
    pages that escape a value or ten per row. Never for markup, which it escapes again."""
    return text.translate(_ESCAPES)


# Every widget of WTForms finds it under these names.
widget_core.html_params = widgets.html_params = html_params
widget_core.Input.html_params = widget_core.Button.html_params = staticmethod(html_params)


_VALUE = "lotsen-hidden-value"
_hidden_inputs: dict = {}


def hidden_input(field) -> tuple[Markup, Markup]:
    """The hidden input as WTForms renders it, before and after its value."""
    key = (field.id, field.name, field.flags.disabled)
    return kept(
        _hidden_inputs,
        key,
        lambda: tuple(field.widget(field, value=_VALUE).split(_VALUE)),
        FIELD_CACHE_SIZE,
    )


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

    @classmethod
    def _dispatch_render_option(cls):
        # WTForms inspects render_option's signature at every rendering to support the one
        # before 3.3; ours has the current one.
        return cls.render_option


class _Lazy:
    """A lazy label as a cache key: equal to another made by the same call (function and
    arguments), which needs no translation look-up (the work the cache saves). Forms that
    build their choices per request make a new lazy label each time (``("", _l("All"))``):
    compared as objects, each request added entries until the cache was full."""

    __slots__ = ("label", "key")

    def __init__(self, label: LazyString):
        self.label = label
        self.key = _text_key(label)

    def __hash__(self):
        return hash(self.key)

    def __eq__(self, other):
        return isinstance(other, _Lazy) and other.key == self.key


@lru_cache(maxsize=4096)
def _option(value, label, selected) -> Markup:
    if isinstance(label, tuple):
        label = str(label[0].label)
    return widgets.Select.render_option(Choice(value, label, selected, {}))


# -- the field macro, rendered once per distinct state ----------------------------------------

FIELD_CACHE_SIZE = 2000
_field_html: dict = {}
# Not kept: what a person typed, passwords, per-form random keys, nested forms
_UNKEPT_TYPES = {"PasswordField", "HiddenField", "CSRFTokenField", "FieldList", "FormField"}


def kept_field(macro):
    """``macro`` (``render_field``: templates/_macros/forms.html's field) remembered per
    locale and field state: an empty form renders the same HTML on every view of a page, and
    WTForms costs most of a field's drawing time. Only fields without errors
    whose value is empty, a date, a number or one of their choices are kept; the key holds
    everything the macro's output depends on."""

    def field(f, class_="", hint=None):
        blank_html = getattr(f, "_blank_html", None)  # a shared empty form's (forms.blank_form)
        if blank_html is not None:  # that form is one locale's: the key needs no locale
            key = (class_, _text_key(hint))
            html = blank_html.get(key)
            if html is None:
                html = blank_html[key] = macro(f, class_, hint)
            return html
        key = _field_key(f, class_, hint)
        try:
            hash(key)
        except TypeError:  # a value in it cannot be hashed
            key = None
        if key is None:
            return macro(f, class_, hint)
        return kept(_field_html, key, lambda: macro(f, class_, hint), FIELD_CACHE_SIZE)

    return field


def _text_key(text):
    """A lazy text by its message and values: with the locale (in the key) they decide
    its wording; forms make new lazy texts per instance (``_l("All")`` in ``__init__``)."""
    if isinstance(text, LazyString):
        return (text._func, text._args, tuple(sorted(text._kwargs.items())))
    return (type(text), text)


def _field_key(f, class_, hint):
    if f.errors or f.raw_data or f.type in _UNKEPT_TYPES:
        return None
    data = f.data
    choices = getattr(f, "choices", None)
    if choices is not None:
        if not isinstance(choices, list) or any(c.render_kw or c.optgroup for c in choices):
            return None
        options = tuple((c.value, _text_key(c.label)) for c in choices)
        values = {value for value, _ in options}
        if isinstance(data, list):
            data = tuple(data)
        try:
            known = data in values or (isinstance(data, tuple) and set(data) <= values)
        except TypeError:  # unhashable
            return None
        if not (data is None or known):
            return None
    elif not (data is None or data == "" or isinstance(data, date | time | int)):
        return None  # typed text is not kept
    else:
        options = None
    render_kw = tuple(sorted(f.render_kw.items())) if f.render_kw else None
    date_format = getattr(f, "format", None)
    return (
        str(get_locale()),
        type(f),
        f.widget,  # an instance per field class: compared as an object
        f.id,
        f.name,
        _text_key(f.label.text),
        f.label.field_id,
        _text_key(f.description),
        _text_key(hint),
        class_,
        tuple(sorted(vars(f.flags).items())),
        render_kw,
        data,
        options,
        getattr(f, "coerce", None),
        tuple(date_format) if isinstance(date_format, list) else date_format,
    )


def render_field(f, class_: str = "", hint=None) -> Markup:
    """Every form field of every page, the one way (templates/_macros/forms.html's
    ``field``): the label always present, hint and errors linked by aria-describedby.
    Written in Python: as a Jinja macro it took three times as long, and a page such as
    "my day" draws four fields for each follow-up."""
    hint = hint or f.description
    ids = []
    if hint:
        ids.append(f"{f.id}-hint")
    if f.errors:
        ids.append(f"{f.id}-error")
    if f.type in ("HiddenField", "CSRFTokenField"):
        return f()
    attrs = {"aria-describedby": " ".join(ids)} if ids else {}
    if f.errors:
        attrs["aria-invalid"] = "true"
    if f.flags.required:
        attrs["required"] = True
    notes = _hint_and_errors(f, hint)
    if f.type == "BooleanField":
        html = f'<div class="field checkbox {escape(class_)}">{f(**attrs)} {f.label()}{notes}</div>'
    elif f.type in ("RadioField", "MultiCheckboxField"):
        kind = "radio" if f.type == "RadioField" else "checkbox"
        described = f' aria-describedby="{escape(" ".join(ids))}"' if ids else ""
        choices = "".join(
            f'<label class="choice"><input type="{kind}" name="{escape(f.name)}" '
            f'value="{escape(value)}"{" checked" if checked else ""}> {escape(text)}</label>'
            for value, text, checked, *_ in f.iter_choices()
        )
        html = (
            f'<fieldset class="field group {escape(class_)}"{described}>'
            f"<legend>{escape(f.label.text)}</legend>{choices}{notes}</fieldset>"
        )
    else:
        required = ' <span class="required" aria-hidden="true">*</span>' if f.flags.required else ""
        html = (
            f'<div class="field {escape(class_)}{" has-error" if f.errors else ""}">'
            f'<span class="label-row">{f.label()}{required}</span>{f(**attrs)}{notes}</div>'
        )
    return Markup(html)  # noqa: S704  (every value above is escaped or WTForms' markup)


def _hint_and_errors(f, hint) -> str:
    html = f'<p class="hint" id="{escape(f.id)}-hint">{escape(hint)}</p>' if hint else ""
    if f.errors:
        errors = escape(" ".join(str(e) for e in f.errors))
        html += f'<p class="error" id="{escape(f.id)}-error">{errors}</p>'
    return html
