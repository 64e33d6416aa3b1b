"""The form helpers of lotsen/forms.py."""

import importlib.util

import pytest
import wtforms.widgets.core
from markupsafe import Markup
from wtforms.fields.core import Label

from lotsen.forms import html_params


def wtforms_html_params():
    """WTForms' own ``html_params``, from a fresh copy of its module (lotsen.forms puts
    its own in place of the installed one)."""
    spec = importlib.util.spec_from_file_location("pristine_widgets", wtforms.widgets.core.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.html_params


@pytest.mark.parametrize(
    "attributes",
    [
        {"id": "q", "name": "q", "type": "text", "value": "", "maxlength": 200},
        {"value": "a'b\"<&>", "class_": "wide x", "for_": "z"},
        {"checked": True, "readonly": False, "data_foo_bar": "1", "aria_describedby": "a b"},
        {"value": Markup('<b title="x">"y"</b>'), "selected": True},
        {"value": None, "min": 0, "step": 1.5},
        {},
    ],
)
def test_html_params_gives_what_wtforms_gives(attributes):
    ours, theirs = html_params(**attributes), wtforms_html_params()(**attributes)
    assert ours == theirs and isinstance(ours, Markup)


def test_widgets_and_labels_render_with_it():
    assert wtforms.widgets.core.html_params is html_params
    assert wtforms.widgets.TextInput.html_params is html_params
    assert Label("q", "<Sök>")(class_="x") == '<label class="x" for="q">&lt;Sök&gt;</label>'
