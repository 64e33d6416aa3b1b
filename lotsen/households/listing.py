"""The household list's table rows as HTML, drawn in Python.

The rows come as plain values from one statement (lotsen/households/queries.py); as a Jinja
loop each of the page's 25 rows cost some 400 Python calls (a URL, a label and two dates
looked up, a dozen values escaped one by one through Jinja's runtime). Here the URL, the
texts and the date format are looked up once per page and each value is escaped once.
The markup is the template's (templates/households/index.html) as it was, byte for byte
(tests/test_households.py compares them)."""

from flask_babel import gettext as _
from markupsafe import Markup, escape

from lotsen.households.queries import ListRow
from lotsen.households.vocab import label
from lotsen.i18n import local_dates
from lotsen.urls import id_url


def table_rows(rows: list[ListRow]) -> Markup:
    """The ``<tr>`` of each row, as the list's ``{% for %}`` loop wrote them."""
    if not rows:
        none = _text("No households match.")
        return Markup(f'\n    <tr><td colspan="9">{none}</td></tr>\n  ')  # noqa: S704
    url = id_url("households.view", "household_id")
    short_date = local_dates("short")
    never, not_sure = _text("Never"), _text("Not sure yet")
    last_label, next_label = _text("Last contact"), _text("Next follow-up")
    stages: dict = {}
    html = []
    for h in rows:
        stage = stages.get(h.stage)
        if stage is None:
            stage = stages[h.stage] = (
                f'<span class="stage stage-{escape(h.stage)}">{escape(label(h.stage))}</span>'
            )
        country = f' <span class="muted">({escape(h.country)})</span>' if h.country else ""
        last = escape(short_date(h.last_contact_at)) if h.last_contact_at else never
        due = escape(short_date(h.next_due_on)) if h.next_due_on else "–"
        tags = "".join([f'<span class="tag">{escape(t)}</span> ' for t in h.tags])
        html.append(
            "\n    <tr>\n"
            f'      <td><a href="{escape(url(h.id))}">{escape(h.name)}</a>{country}</td>\n'
            f"      <td>{stage}</td>\n"
            f"      <td>{escape(h.municipality_name or not_sure)}</td>\n"
            f'      <td class="wide-only">{escape(h.guide_name or "–")}</td>\n'
            f'      <td class="num wide-only">{escape(h.adults)}</td>\n'
            f'      <td class="num wide-only">{escape(h.children)}</td>\n'
            f'      <td data-label="{last_label}">{last}</td>\n'
            f'      <td data-label="{next_label}">{due}</td>\n'
            f'      <td class="wide-only">{tags}</td>\n'
            "    </tr>\n  "
        )
    return Markup("".join(html))  # noqa: S704  (every value above is escaped)


def _text(message: str) -> Markup:
    """A text of the catalog as the templates take it: as markup (lotsen/i18n.py)."""
    return Markup(_(message))  # noqa: S704  (a catalog text, as in every template)
