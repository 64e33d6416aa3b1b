"""Swedish time and working days: Europe/Stockholm, weekends, public and de facto holidays
(midsummer eve, Christmas eve, New Year's eve) from the maintained ``holidays`` package."""

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@cache
def _swedish_holidays(year: int):
    import holidays  # ~9 MB of country modules: loaded when a working day is first asked

    return holidays.country_holidays(
        "SE", years=year, categories=("public", "de_facto"), include_sundays=False
    )


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _swedish_holidays(day.year)


def add_working_days(day: date, n: int) -> date:
    """The ``n``-th working day after ``day``."""
    while n > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def local_date(moment: datetime) -> date:
    return moment.astimezone(STOCKHOLM).date()


def local_to_utc(day: date, at: time) -> datetime:
    """A Stockholm wall-clock time as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=STOCKHOLM).astimezone(UTC)
