"""Free-text search over households through each database's own text index.

``Household.search_text`` holds normalised words (lower case, diacritics removed, split on
anything that is not a letter or digit) from the name, members, e-mail, phone and notes.
SQLite indexes it in the FTS5 table ``household_fts`` (kept by triggers), PostgreSQL in the
generated column ``search_vector`` (``to_tsvector('simple', search_text)``) with the GIN
index ``ix_household_search``; both are made by the migrations. A query matches households
containing every word as a word prefix.
"""

import re
import unicodedata
from functools import cache

from sqlalchemy import Integer, bindparam, column, text
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import BindParameter

from lotsen.households.models import Household

_WORD = re.compile(r"[^\W_]+")
_PHONEISH = re.compile(r"^[\d\s()+./-]{5,}$")
MAX_TERMS = 8


def normalise(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(value: str) -> list[str]:
    return _WORD.findall(normalise(value))


def phone_words(e164: str) -> list[str]:
    """An E.164 number as searchable words: its digits and its national form with 0."""
    digits = e164.lstrip("+")
    out = [digits]
    import phonenumbers  # loaded on first use, not in every worker

    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return out
    national = str(number.national_number)
    out.append(national)
    if number.country_code in (46, 31, 49, 47, 358, 45, 44):  # trunk prefix 0
        out.append("0" + national)
    return out


def build_search_text(household: Household) -> str:
    parts = [household.name or "", household.email or "", household.notes or ""]
    parts += [p.full_name for p in household.persons]
    if household.town:
        parts.append(household.town)
    tokens = []
    for part in parts:
        tokens += words(part)
    if household.phone:
        tokens += phone_words(household.phone)
    return " ".join(dict.fromkeys(tokens))


def query_terms(q: str) -> list[str]:
    if _PHONEISH.match(q.strip()):
        digits = re.sub(r"\D", "", q)
        return [digits] if digits else []
    return words(q)[:MAX_TERMS]


def match_value(q: str, dialect: str) -> str | None:
    """What ``match_condition`` binds as ``fts`` for ``q`` (None when ``q`` has no words)."""
    terms = query_terms(q)
    if not terms:
        return None
    if dialect == "postgresql":
        return " & ".join(f"{t}:*" for t in terms)
    return " ".join(f'"{t}"*' for t in terms)


def _matches(dialect: str, fts: BindParameter) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return text("household.search_vector @@ to_tsquery('simple', :fts)").bindparams(fts)
    return Household.id.in_(fts_rowids(fts))


def fts_rowids(fts: BindParameter):
    """SQLite: the ids of the households matching ``fts``, from the text index alone."""
    matches = text("SELECT rowid FROM household_fts WHERE household_fts MATCH :fts")
    return matches.bindparams(fts).columns(column("rowid", Integer))


@cache
def match_condition(dialect: str) -> ColumnElement[bool]:
    """SQL condition for households matching the bound parameter ``fts`` (``match_value``),
    through the database's text index; built once (a search's statement can be kept)."""
    return _matches(dialect, bindparam("fts"))


def match_clause(q: str, dialect: str) -> ColumnElement[bool] | None:
    """SQL condition for households matching ``q`` (None when ``q`` has no words)."""
    value = match_value(q, dialect)
    return None if value is None else _matches(dialect, bindparam("fts", value))
