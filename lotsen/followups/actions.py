"""The action forms under each follow-up (templates/followups/_actions.html), drawn by the
macro once per language and return page with placeholders, then filled in per follow-up.

Drawn for each follow-up, the macro built four URLs and two forms of WTForms for it (some 90
Python calls for the URLs alone): "my day" with 40 follow-ups spent most of its time there.
The markup still comes from the macro alone; only what differs between follow-ups (its id,
title, date and time, the request's CSRF token) is put in per follow-up, escaped as the macro
escapes it. A follow-up whose form failed is drawn by the macro itself, with its errors."""

import re
from datetime import date, time

from flask import current_app
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from lotsen.followups.forms import RescheduleForm, action_forms
from lotsen.i18n import page_translations

_ID = "987654321"  # an id no follow-up has (ids are digits: a marker that survives URLs)
_TITLE = "\ue000title\ue000"  # private-use characters: nothing escapes or writes them
_DUE_ON = "\ue000due_on\ue000"
_DUE_TIME = "\ue000due_time\ue000"
_TOKEN = "\ue000csrf_token\ue000"  # noqa: S105  (a marker, not a secret)
_MARKS = (_ID, _TITLE, _DUE_ON, _DUE_TIME, _TOKEN)
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


def _skeleton(back: str) -> tuple[str, ...]:
    """The macro's markup for a marked follow-up, split at the marks (each mark its own
    piece), once per language and ``back``."""
    key = (str(get_locale()), back)
    pieces = _skeletons.get(key)
    if pieces is None:
        template = current_app.jinja_env.get_template("followups/_actions.html")
        module = template.make_module({**page_translations(), "csrf_token": lambda: _TOKEN})
        mark = _MarkFollowUp()
        html = str(module.followup_actions(mark, back, action_forms(mark)))
        pieces = tuple(_split(html))
        if len(_skeletons) >= 64:  # ``back`` of household pages: one per household
            _skeletons.clear()
        _skeletons[key] = pieces
    return pieces


def _split(html: str) -> list[str]:
    return re.split("(" + "|".join(map(re.escape, _MARKS)) + ")", html)


class FollowUpActions:
    """``actions(followup)``: the follow-up's action forms for this request's page."""

    def __init__(self, back: str):
        self.pieces = _skeleton(back)
        self.token = generate_csrf()

    def __call__(self, followup) -> Markup:
        values = {
            _ID: str(followup.id),
            _TITLE: str(escape(followup.title)),
            _DUE_ON: followup.due_on.strftime(DATE_FORMAT) if followup.due_on else "",
            _DUE_TIME: followup.due_time.strftime(TIME_FORMAT) if followup.due_time else "",
            _TOKEN: str(escape(self.token)),
        }
        html = "".join([values.get(piece, piece) for piece in self.pieces])
        return Markup(html)  # noqa: S704  (the macro's markup; the values escaped above)
