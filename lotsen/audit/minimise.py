"""Data minimisation: Lotsen collects no personal identity numbers (personnummer).

``NoIdentityNumber`` is a WTForms validator for free-text fields (notes, contact
summaries, follow-up notes, stage comments). It *blocks* the save with a clear message
rather than warning: a warning is clicked away, and a number once saved sits in a public
document and in the audit log. To keep phone numbers and dates from tripping it, it only
matches the written forms of a personnummer or samordningsnummer — ``YYMMDD-NNNN``,
``YYMMDD+NNNN`` or twelve digits ``YYYYMMDD(-)NNNN`` — whose date part is a real date
(day + 60 for a samordningsnummer) and whose last digit passes the Luhn check.
"""

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

_CANDIDATE = re.compile(r"(?<![\d+])((?:19|20)?)(\d{6})([-+ ]?)(\d{4})(?!\d)")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _real_date(yymmdd: str, century: str) -> bool:
    year = int((century or "19") + yymmdd[:2])
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    if day > 60:  # samordningsnummer
        day -= 60
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def looks_like_identity_number(text: str | None) -> bool:
    """Whether ``text`` holds something written like a Swedish personal identity number."""
    for century, yymmdd, sep, last4 in _CANDIDATE.findall(text or ""):
        if not century and sep not in ("-", "+"):
            continue  # ten bare digits are more often a phone number
        if _real_date(yymmdd, century) and _luhn_ok(yymmdd + last4):
            return True
    return False


class NoIdentityNumber:
    """Refuses free text that holds a personal identity number."""

    message = _l(
        "This looks like a personal identity number (personnummer). Lotsen does not collect "
        "them: remove it, and write a birth year instead if it matters."
    )

    def __call__(self, form, field):
        if looks_like_identity_number(field.data):
            raise ValidationError(self.message)
