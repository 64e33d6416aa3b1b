"""Locale and time zone selection; template helpers for labels and local times."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import (
    format_datetime,
    format_decimal,
    get_locale,
    get_timezone,
    get_translations,
    ngettext,
)
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

from lotsen.contacts.models import CHANNEL_LABELS, DIRECTION_LABELS
from lotsen.db import utcnow
from lotsen.events.vocab import label as event_label
from lotsen.households.forms import field_label
from lotsen.households.vocab import label
from lotsen.workdays import local_date


def select_locale() -> str:
    if not has_request_context():  # jobs and CLI commands: Swedish unless force_locale says
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.blueprint in ("interest", "event_public"):
        return _public_locale()
    supported = current_app.config["LANGUAGES"]
    wanted = request.args.get("lang")
    if wanted in supported:
        session["lang"] = wanted
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return current_user.locale
    return session.get("lang") or current_app.config["BABEL_DEFAULT_LOCALE"]


def _public_locale() -> str:
    """Public pages: ?lang=, then the language chosen before, then the browser's."""
    supported = current_app.config["PUBLIC_LANGUAGES"]
    wanted = request.args.get("lang")
    if wanted in supported:
        session["public_lang"] = wanted
        return wanted
    if session.get("public_lang") in supported:
        return session["public_lang"]
    return request.accept_languages.best_match(supported) or supported[0]


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def country_name(code: str | None) -> str:
    if not code:
        return ""
    return Locale.parse(str(get_locale())).territories.get(code, code)


def phone(e164: str | None) -> str:
    return _phone(e164) if e164 else ""


@lru_cache(maxsize=4096)
def _phone(e164: str) -> str:
    """Parsing and formatting take ~100 µs; a household page shows its number each view."""
    import phonenumbers  # its metadata is loaded when a page first shows a number

    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def age(birth_year: int) -> str:
    """ "4 years" for a birth year, today (a birth year gives the age this year)."""
    years = max(0, local_date(utcnow()).year - birth_year)
    return ngettext("%(num)d year", "%(num)d years", years)


def date_filter(value: date | datetime | None, fmt: str = "medium") -> str:
    """``format_date`` for templates, remembered per day, format and locale: a list shows
    the same few dates many times, and Babel formats each anew."""
    return local_dates(fmt)(value) if value else ""


def local_dates(fmt: str = "medium") -> Callable[[date | datetime | None], str]:
    """``date_filter`` with the user's locale and time zone looked up once, for a list
    with dates in every row: each look-up goes through Flask-Babel's request context
    (``to_user_timezone`` and ``get_locale``), which cost more than the formatting."""
    # The zone as ``zoneinfo`` (Flask-Babel's is pytz, five times slower to convert with),
    # like lotsen.clock.
    zone, locale = ZoneInfo(str(get_timezone())), str(get_locale())

    def format_day(value: date | datetime | None) -> str:
        if not value:
            return ""
        if isinstance(value, datetime):  # as ``to_user_timezone``: naive means UTC
            moment = value if value.tzinfo else value.replace(tzinfo=UTC)
            value = moment.astimezone(zone).date()
        return _formatted_date(value, fmt, locale)

    return format_day


@lru_cache(maxsize=8192)
def _formatted_date(value: date, fmt: str, locale: str) -> str:
    return babel_dates.format_date(value, fmt, locale=locale)


def datetime_filter(value: datetime | None, fmt: str = "medium") -> str:
    """``format_datetime`` for templates, remembered per moment, format, locale and zone:
    a household's timeline shows the same entries on every view, ~45 µs each in Babel."""
    if not value:
        return ""
    return _formatted_datetime(value, fmt, str(get_locale()), str(get_timezone()))


@lru_cache(maxsize=8192)
def _formatted_datetime(value: datetime, fmt: str, locale: str, zone: str) -> str:
    return format_datetime(value, fmt)  # with the request's locale and zone: the key's


def page_translations() -> dict:
    """Template context: ``_``/``gettext`` and ``ngettext`` bound to this page's catalog.

    Flask-Babel's template functions look the locale and its catalog up again for every text
    (some 30 Python calls each, a few hundred texts a page); these look them up once per page.
    They behave as Jinja's "newstyle" gettext: the result is formatted with its keyword
    arguments and marked safe only after that, so the arguments are escaped."""
    translations = get_translations()

    @pass_context
    def gettext(context, string, **variables):
        text = translations.ugettext(string)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704  (a catalog text; its arguments escape below)
        return text % variables if variables or "%" in text else text

    @pass_context
    def ngettext(context, singular, plural, num, **variables):
        variables.setdefault("num", num)
        text = translations.ungettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704  (as above)
        return text % variables

    # The contact labels translated once per page (the globals give lazy texts, which look
    # the locale and catalog up each time they are drawn: the timeline draws two a contact).
    texts: dict = {}

    def page_label(labels: dict, value):
        key = (id(labels), value)
        if key not in texts:
            texts[key] = str(labels.get(value, value))
        return texts[key]

    # ``_`` too: the i18n extension's ``_`` calls ``gettext`` through the context again
    # (two template calls per text; the household page has some sixty texts)
    return {
        "gettext": gettext,
        "ngettext": ngettext,
        "_": gettext,
        "channel_label": lambda value: page_label(CHANNEL_LABELS, value),
        "direction_label": lambda value: page_label(DIRECTION_LABELS, value),
    }


def register_template_helpers(app: Flask) -> None:
    app.context_processor(page_translations)
    app.jinja_env.globals.update(
        label=label,
        age=age,
        local_dates=local_dates,
        get_locale=get_locale,
        channel_label=lambda v: CHANNEL_LABELS.get(v, v),
        direction_label=lambda v: DIRECTION_LABELS.get(v, v),
        channel_choices=lambda: CHANNEL_LABELS.items(),
    )
    app.jinja_env.filters.update(
        datetime=datetime_filter,
        date=date_filter,
        number=format_decimal,
        phone=phone,
        country_name=country_name,
        field_label=field_label,
        event_label=event_label,
    )
