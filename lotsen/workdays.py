"""Swedish time and working days: Europe/Stockholm, weekends, public and de facto holidays
(midsummer eve, Christmas eve, New Year's eve) from the maintained ``holidays`` package."""

from datetime import date, timedelta
from functools import cache

from lotsen.clock import ZONE as STOCKHOLM
from lotsen.clock import local_date, local_to_utc

__all__ = ["STOCKHOLM", "add_working_days", "is_working_day", "local_date", "local_to_utc"]


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
