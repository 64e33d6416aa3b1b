"""The action forms under each follow-up (templates/followups/_actions.html), drawn by the
macro once per language and return page with placeholders, then filled in per follow-up.

Drawn for each follow-up, the macro built four URLs and two forms of WTForms for it (some 90
Python calls for the URLs alone): "my day" with 40 follow-ups spent most of its time there.
The markup still comes from the macro alone; only what differs between follow-ups (its id,
title, date and time, the request's CSRF token) is put in per follow-up, escaped as the macro
escapes it. A follow-up whose form failed is drawn by the macro itself, with its errors.
Its line above the forms (``DayLines``) is drawn here too, with the page's texts, date format
and household link looked up once (``tests/test_followups.py`` compares both with the
templates' own drawing)."""

from datetime import date, time

from flask import current_app
from flask_babel import get_locale, get_translations
from flask_wtf.csrf import generate_csrf
from jinja2.filters import do_truncate
from markupsafe import Markup

from lotsen.followups.forms import RescheduleForm, action_forms
from lotsen.form_html import escape_text
from lotsen.i18n import local_dates, page_translations
from lotsen.kept import kept
from lotsen.urls import id_urls

_ID = "987654321"  # an id no follow-up has (ids are digits: a marker that survives URLs)
_TITLE = "\ue000title\ue000"  # private-use characters: nothing escapes or writes them
_DUE_ON = "\ue000due_on\ue000"
_DUE_TIME = "\ue000due_time\ue000"
_TOKEN = "\ue000csrf_token\ue000"  # noqa: S105  (a marker, not a secret)
_FIELDS = {"id": _ID, "title": _TITLE, "due_on": _DUE_ON, "due_time": _DUE_TIME, "token": _TOKEN}
DATE_FORMAT = RescheduleForm.due_on.kwargs.get("format", "%Y-%m-%d")
TIME_FORMAT = RescheduleForm.due_time.kwargs.get("format", "%H:%M")

_skeletons: dict = {}


class _MarkDate(date):
    def strftime(self, fmt):
        return _DUE_ON


class _MarkTime(time):
    def strftime(self, fmt):
        return _DUE_TIME


class _MarkFollowUp:
    id = int(_ID)
    title = _TITLE
    due_on = _MarkDate(1901, 2, 3)
    due_time = _MarkTime(1, 23)


def _skeleton(back: str) -> str:
    """The macro's markup for a marked follow-up as a format string with a field for each
    mark, once per language and ``back``."""

    def build():
        template = current_app.jinja_env.get_template("followups/_actions.html")
        module = template.make_module({**page_translations(), "csrf_token": lambda: _TOKEN})
        mark = _MarkFollowUp()
        html = str(module.followup_actions(mark, back, action_forms(mark)))
        skeleton = html.replace("{", "{{").replace("}", "}}")
        for name, value in _FIELDS.items():
            skeleton = skeleton.replace(value, "{" + name + "}")
        return skeleton

    # 64: ``back`` of household pages is one per household
    return kept(_skeletons, (str(get_locale()), back), build, 64)


class FollowUpActions:
    """``actions(followup)``: the follow-up's action forms for this request's page."""

    def __init__(self, back: str):
        self.skeleton = _skeleton(back)
        self.token = escape_text(generate_csrf())

    def __call__(self, followup) -> Markup:
        html = self.skeleton.format(
            id=int(followup.id),
            title=escape_text(followup.title),
            due_on=followup.due_on.strftime(DATE_FORMAT) if followup.due_on else "",
            due_time=followup.due_time.strftime(TIME_FORMAT) if followup.due_time else "",
            token=self.token,
        )
        return Markup(html)  # noqa: S704  (the macro's markup; the values escaped above)


class DayLines:
    """``day_line(line)``: a follow-up's line on "my day" (what, when, the last contact), as
    templates/followups/my_day.html wrote it, with the page's texts, date format and
    household link looked up once per page."""

    def __init__(self):
        translations = get_translations()
        self.due, self.last, self.never = (
            Markup(translations.ugettext(text))  # noqa: S704  (catalog texts, as in templates)
            for text in ("Due", "Last contact", "never")
        )
        self.date = local_dates("medium")
        self.env = current_app.jinja_env
        self.household_url = id_urls("households.view", "household_id")

    def __call__(self, line) -> Markup:
        e = escape_text
        when = f"{e(self.date(line.due_on))}"
        if line.due_time:
            when += f" {e(line.due_time.strftime('%H:%M'))}"
        if line.last_contact_at:
            last = e(self.date(line.last_contact_at))
            if line.last_contact_summary:
                summary = do_truncate(self.env, line.last_contact_summary, 90)
                last += f" – {e(summary)}"
        else:
            last = self.never
        note = f'<p class="pre">{e(line.note)}</p>' if line.note else ""
        household = self.household_url(line.household_id)
        html = (
            '<div class="day-line">\n'
            f'        <p class="day-main"><a href="{e(household)}">'
            f"{e(line.household_name)}</a> – {e(line.title)}</p>\n"
            f'        <p class="muted">{self.due} {when}\n'
            f"          · {self.last}: {last}</p>\n"
            f"        {note}\n"
            "      </div>"
        )
        return Markup(html)  # noqa: S704  (every value above is escaped)
