"""The household list's table rows as HTML, drawn in Python.

The rows come as plain values from one statement (lotsen/households/queries.py); as a Jinja
loop each of the page's 25 rows cost some 400 Python calls (a URL, a label and two dates
looked up, a dozen values escaped one by one through Jinja's runtime). Here the URL, the
texts and the date format are looked up once per page and each value is escaped once.
The markup is the template's (templates/households/index.html) as it was, byte for byte
(tests/test_households.py compares them)."""

import re

from flask_babel import get_locale, get_translations
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

from lotsen.form_html import escape_text as _e
from lotsen.form_html import kept_field, render_field
from lotsen.households.forms import HouseholdFilterForm
from lotsen.households.queries import ListRow
from lotsen.households.vocab import label
from lotsen.i18n import local_dates
from lotsen.kept import kept
from lotsen.urls import id_urls


def table_rows(rows: list[ListRow]) -> Markup:
    """The ``<tr>`` of each row, as the list's ``{% for %}`` loop wrote them."""
    if not rows:
        none = _text("No households match.")
        return Markup(f'\n    <tr><td colspan="9">{none}</td></tr>\n  ')  # noqa: S704
    short_date = local_dates("short")
    household_url = id_urls("households.view", "household_id")
    never, not_sure = _text("Never"), _text("Not sure yet")
    last_label, next_label = _text("Last contact"), _text("Next follow-up")
    stages: dict = {}
    html = []
    for h in rows:
        stage = stages.get(h.stage)
        if stage is None:
            stage = stages[h.stage] = (
                f'<span class="stage stage-{_e(h.stage)}">{_e(label(h.stage))}</span>'
            )
        country = f' <span class="muted">({_e(h.country)})</span>' if h.country else ""
        last = _e(short_date(h.last_contact_at)) if h.last_contact_at else never
        due = _e(short_date(h.next_due_on)) if h.next_due_on else "–"
        tags = "".join([f'<span class="tag">{_e(t)}</span> ' for t in h.tags])
        place = _e(h.municipality_name) if h.municipality_name else not_sure
        url = _e(household_url(h.id))
        html.append(
            "\n    <tr>\n"
            f'      <td><a href="{url}">{_e(h.name)}</a>{country}</td>\n'
            f"      <td>{stage}</td>\n"
            f"      <td>{place}</td>\n"
            f'      <td class="wide-only">{_e(h.guide_name) if h.guide_name else "–"}</td>\n'
            f'      <td class="num wide-only">{h.adults}</td>\n'
            f'      <td class="num wide-only">{h.children}</td>\n'
            f'      <td data-label="{last_label}">{last}</td>\n'
            f'      <td data-label="{next_label}">{due}</td>\n'
            f'      <td class="wide-only">{tags}</td>\n'
            "    </tr>\n  "
        )
    return Markup("".join(html))  # noqa: S704  (every value above is escaped)


def _text(message: str) -> Markup:
    """A text of the catalog as the templates take it: as markup (lotsen/i18n.py)."""
    return Markup(get_translations().ugettext(message))  # noqa: S704  (a catalog text)


# -- the filters --------------------------------------------------------------------------

# (name, class) of the fields in the filter row, in order
FILTER_ROW = (
    ("q", "wide"),
    ("stage", ""),
    ("municipality", ""),
    ("guide", ""),
    ("source", ""),
    ("tag", ""),
    ("stale_days", ""),
    ("sort", ""),
)
TYPED = ("q", "tag", "stale_days")  # what a person typed: put in per request
_MARKS = {name: f"\ue000{name}\ue000" for name in TYPED}
_field = kept_field(render_field)
_filter_rows: dict = {}


def filter_row(form: HouseholdFilterForm) -> Markup:
    """The filter row's fields, as the form macro draws them (lotsen/form_html.py). Without
    errors it is drawn once per language, option lists and chosen options, with marks for
    the typed values, which are put in per request, escaped as WTForms escapes them."""
    if form.errors:
        return _draw(form)
    selects = tuple(tuple(form[name].raw_data or ()) for name, _ in FILTER_ROW if name not in TYPED)

    def build():
        marked = MultiDict(
            [(name, value) for name, _ in FILTER_ROW for value in form[name].raw_data or ()]
        )
        for name, mark in _MARKS.items():
            marked.setlist(name, [mark])
        html = _draw(HouseholdFilterForm(marked, **form.options))
        return tuple(re.split("(" + "|".join(_MARKS.values()) + ")", html))

    pieces = kept(_filter_rows, (str(get_locale()), form.options_key, selects), build, 256)
    values = {mark: str(escape(form[name]._value())) for name, mark in _MARKS.items()}
    html = "".join([values.get(piece, piece) for piece in pieces])
    return Markup(html)  # noqa: S704  (WTForms' markup, the values escaped)


def _draw(form: HouseholdFilterForm) -> Markup:
    hint = _text("Name, e-mail, phone or notes")
    return Markup("\n    ").join(
        _field(form[name], class_, hint if name == "q" else None) for name, class_ in FILTER_ROW
    )
