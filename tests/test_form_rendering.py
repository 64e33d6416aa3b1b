"""A field remembered per field state (lotsen/form_html.py: kept_field) renders what render_field
renders, and keeps nothing a person typed; WTForms' messages stay translated."""

from flask import render_template_string
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from lotsen import form_html
from lotsen.contacts.forms import ContactForm
from lotsen.households.forms import StageForm
from lotsen.privacy.forms import ConsentForm

FIELDS = """{% from "_macros/forms.html" import field %}
{%- for f in form if f.type not in ("CSRFTokenField", "HiddenField") -%}
  {{ field(f, hint=hint) }}
{%- endfor %}"""


def render(form, hint=None) -> str:
    return render_template_string(FIELDS, form=form, hint=hint)


def macro_render(monkeypatch, form, hint=None) -> str:
    """render_field itself, nothing remembered."""
    with monkeypatch.context() as m:
        m.setattr(form_html, "_field_key", lambda *args: None)
        return render(form, hint)


def test_a_kept_field_renders_as_the_macro(app, monkeypatch):
    for locale in ("sv", "en"):
        with app.test_request_context("/"), force_locale(locale):
            form_html._field_html.clear()
            for make in (
                lambda: ContactForm(formdata=None),
                lambda: StageForm(formdata=None),
                lambda: ConsentForm(prefix="consent", formdata=None),
            ):
                first, again = render(make()), render(make(), hint="A hint")
                assert first == render(make())  # from the kept HTML
                assert first == macro_render(monkeypatch, make())
                assert again == macro_render(monkeypatch, make(), hint="A hint") != first
            assert form_html._field_html


def test_the_language_is_part_of_what_is_kept(app):
    with app.test_request_context("/"):
        form_html._field_html.clear()
        with force_locale("sv"):
            swedish = render(StageForm(formdata=None))
        with force_locale("en"):
            english = render(StageForm(formdata=None))
    assert "Kontaktad" in swedish and "Contacted" in english


def test_typed_text_and_errors_are_not_kept(app):
    with app.test_request_context("/", method="POST"):
        form_html._field_html.clear()
        form = StageForm(MultiDict({"stage": "closed", "comment": "Flyttar till Umeå"}))
        assert not form.validate()  # closing needs a reason
        html = render(form)
        assert "Flyttar till Umeå" in html and 'aria-invalid="true"' in html
        assert form_html._field_html == {}  # what the browser sent is never kept
        form = StageForm(formdata=None, data={"comment": "Flyttar till Umeå"})
        render(form)
        kept = list(form_html._field_html)
        assert kept and all("Flyttar till Umeå" not in repr(key) for key in kept)
        assert all(key[3] != "comment" for key in kept)  # text with a value


def test_wtforms_messages_are_in_the_users_language(app):
    for locale, message in (("sv", "Inte ett giltigt val"), ("en", "Not a valid choice")):
        with app.test_request_context("/", method="POST"), force_locale(locale):
            form = StageForm(MultiDict({"stage": "nonsense"}))
            assert not form.validate()
            assert message in form.stage.errors[0]
