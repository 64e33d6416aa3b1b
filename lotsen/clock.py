"""The one clock of Lotsen: every reading of the current time goes through here.

``now()`` is the moment in UTC (stored, compared, handed to jobs); ``today()`` is the
calendar day in Sweden, which is what "due today", "overdue" and birth years mean. Tests
freeze this clock with ``time_machine`` (see the ``frozen`` fixture in tests/conftest.py).
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

ZONE_NAME = "Europe/Stockholm"
ZONE = ZoneInfo(ZONE_NAME)


def now() -> datetime:
    """The current moment, timezone-aware in UTC."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in Sweden."""
    return local_date(now())


def local_date(moment: datetime) -> date:
    """The Swedish calendar day of an aware ``moment``."""
    return moment.astimezone(ZONE).date()


def local_now() -> datetime:
    """The current Swedish wall-clock time, aware."""
    return now().astimezone(ZONE)


def local_to_utc(day: date, at: time) -> datetime:
    """A Swedish wall-clock time as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=ZONE).astimezone(UTC)
