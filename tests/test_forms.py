"""Form rendering: Lotsen's faster ``html_params`` writes exactly what WTForms' own does."""

import pytest
from markupsafe import Markup
from wtforms import Form, StringField

from lotsen.form_html import WTFORMS_HTML_PARAMS, html_params
from lotsen.forms import SelectField


@pytest.mark.parametrize(
    "attributes",
    [
        {"name": "email", "id": "email", "type": "email", "autocomplete": "email"},
        {"required": True, "readonly": False, "class_": "wide", "for_": "x"},
        {"aria_describedby": "a-hint a-error", "data_queue_key": "k", "aria_invalid": "true"},
        {"value": 'Familjen "Ek" <script>&amp;', "title": Markup('<b title="x">')},
        {"value": 0, "min": 1.5, "max": None, "placeholder": "åäö ÅÄÖ"},
        {},
    ],
)
def test_html_params_writes_what_wtforms_writes(attributes):
    assert html_params(**attributes) == WTFORMS_HTML_PARAMS(**attributes)


def test_widgets_draw_escaped_values_with_it():
    class F(Form):
        name = StringField()
        place = SelectField(choices=[('a"b', "A & B"), ("c", "<C>")])

    form = F(data={"name": '"><script>', "place": 'a"b'})
    assert (
        form.name() == '<input id="name" name="name" type="text" value="&#34;&gt;&lt;script&gt;">'
    )
    assert '<option selected value="a&#34;b">A &amp; B</option>' in form.place()
    assert '<option value="c">&lt;C&gt;</option>' in form.place()
