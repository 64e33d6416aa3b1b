"""Turning one spreadsheet row into household data, with messages in the user's language."""

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from babel import Locale
from email_validator import EmailNotValidError, validate_email
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

from lotsen.households.forms import MAX_PERSONS, normalise_phone
from lotsen.households.services import HouseholdData
from lotsen.households.vocab import LABELS, CloseReason, Source, Stage

FIELDS = {
    "name": _l("Household name"),
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "country": _l("Country"),
    "town": _l("Town"),
    "language": _l("Preferred language"),
    "municipality": _l("Primary municipality"),
    "other_municipalities": _l("Also interested in"),
    "adults": _l("Adults (number or names)"),
    "children": _l("Children (number or names)"),
    "source": _l("How they heard of us"),
    "source_detail": _l("Source details"),
    "stage": _l("Stage"),
    "close_reason": _l("Reason for closing"),
    "notes": _l("Notes"),
}
MAX_LENGTH = {
    "name": 160,
    "first_name": 80,
    "last_name": 80,
    "town": 100,
    "source_detail": 200,
    "notes": 5000,
}

# Headers as guides write them (Swedish, English, Dutch, German), normalised by ``norm``.
SYNONYMS = {
    "name": "namn name hushall hushallsnamn household familj family familjenamn naam huishouden "
    "haushalt kontakt kontaktperson contact contactperson contactpersoon ansprechpartner",
    "first_name": "fornamn firstname givenname voornaam vorname",
    "last_name": "efternamn lastname surname familyname achternaam nachname",
    "email": "epost email mail emailadress epostadress mejl mejladress emailadresse",
    "phone": "telefon telefonnummer phone phonenumber tel telnr mobil mobilnummer mobile "
    "telefoon telefoonnummer handy",
    "country": "land country",
    "town": "ort stad town city woonplaats plaats stadt wohnort",
    "language": "sprak language taal sprache",
    "municipality": "kommun kommunkod municipality gemeente gemeinde primarkommun",
    "other_municipalities": "ovrigakommuner andrakommuner otherkommuner othermunicipalities",
    "adults": "vuxna adults volwassenen erwachsene",
    "children": "barn children kids kinderen kinder",
    "source": "kalla source bron quelle kanal channel",
    "source_detail": "kalldetalj sourcedetail sourcedetails",
    "stage": "steg stage fas status",
    "close_reason": "avslutsorsak orsak closereason",
    "notes": "anteckningar anteckning notes note kommentar kommentarer comment comments "
    "opmerkingen opmerking notizen",
}
HEADER_FIELDS = {word: name for name, words in SYNONYMS.items() for word in words.split()}
SPLIT_NAMES = re.compile(r"\s*(?:[,;/&+]|\boch\b|\band\b|\ben\b|\bund\b)\s*", re.IGNORECASE)


def norm(text: str) -> str:
    """Lower case, diacritics and everything but letters and digits removed."""
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if c.isalnum() and not unicodedata.combining(c))


def row_key(cells: list[str]) -> str:
    """What makes two rows the same row, whichever file they come in."""
    return hashlib.sha256("\x1f".join(cells).encode()).hexdigest()


def guess_mapping(header: list[str], remembered: dict[str, str]) -> list[str]:
    """A field per column: what this user chose for the header before, else a guess."""
    taken: set[str] = set()
    mapping = []
    for title in header:
        key = norm(title)
        name = remembered.get(key, HEADER_FIELDS.get(key, ""))
        if name not in FIELDS or name in taken:
            name = ""
        taken.add(name)
        mapping.append(name)
    return mapping


@cache
def _countries() -> dict[str, str]:
    found = {}
    for locale in ("en", "de", "nl", "sv"):
        for code, name in Locale.parse(locale).territories.items():
            if len(code) == 2 and code.isalpha():
                found[norm(name)] = code
                found[code.lower()] = code
    found.update({"holland": "NL", "england": "GB", "uk": "GB", "usa": "US"})
    return found


@cache
def _languages() -> dict[str, str]:
    found = {}
    for locale in ("en", "de", "nl", "sv"):
        names = Locale.parse(locale).languages
        for code in ("sv", "en", "de", "nl"):
            found[norm(names[code])] = code
            found[code] = code
    return found


def _vocabulary(enum_cls) -> dict[str, Any]:
    """Stored values and their Swedish and English labels -> the value."""
    found = {}
    for member in enum_cls:
        found[norm(member.value)] = member
        for locale in ("sv", "en"):
            with force_locale(locale):
                found[norm(str(LABELS[member]))] = member
    return found


@dataclass
class Context:
    """What every row of one import is checked against."""

    municipalities: dict[str, str]  # normalised name or code -> code
    names: dict[str, str]  # code -> name
    allowed: set[str] | None  # a guide's municipalities; None: any
    default_municipality: str | None = None
    default_source: str | None = None
    stages: dict[str, Any] = field(default_factory=lambda: _vocabulary(Stage))
    sources: dict[str, Any] = field(default_factory=lambda: _vocabulary(Source))
    reasons: dict[str, Any] = field(default_factory=lambda: _vocabulary(CloseReason))


@dataclass
class ParsedRow:
    number: int
    key: str
    data: HouseholdData | None = None
    stage: Stage = Stage.NEW
    close_reason: CloseReason | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def email(self) -> str | None:
        return self.data.fields.get("email") if self.data else None

    @property
    def phone(self) -> str | None:
        return self.data.fields.get("phone") if self.data else None


def _people(raw: str, kind: str, last_name: str | None, errors: list) -> list[dict]:
    if not raw:
        return []
    if raw.isdigit():
        count = int(raw)
        if count > MAX_PERSONS:
            errors.append(str(_l("At most %(n)d members per household.", n=MAX_PERSONS)))
            return []
        return [{"kind": kind, "first_name": "?", "last_name": last_name} for _ in range(count)]
    people = []
    for name in filter(None, SPLIT_NAMES.split(raw)):
        first, _, last = name.partition(" ")
        people.append({"kind": kind, "first_name": first[:80], "last_name": last[:80] or None})
    return people


def parse_row(number: int, cells: list[str], mapping: list[str], ctx: Context) -> ParsedRow:
    """Check one row; ``errors`` say what is wrong, in the current language."""
    row = ParsedRow(number, row_key(cells))
    values = {name: cells[i] for i, name in enumerate(mapping) if name and i < len(cells)}
    errors = row.errors

    def get(name: str) -> str:
        return values.get(name, "").strip()

    for name, limit in MAX_LENGTH.items():
        if len(get(name)) > limit:
            errors.append(
                str(
                    _l(
                        "%(field)s is too long (at most %(n)d characters).",
                        field=FIELDS[name],
                        n=limit,
                    )
                )
            )

    email = get("email") or None
    if email:
        try:
            email = validate_email(email, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            errors.append(
                str(_l("\u201c%(value)s\u201d is not a valid e-mail address.", value=email))
            )

    country = get("country") or None
    if country:
        code = _countries().get(norm(country))
        if code is None:
            errors.append(str(_l("Unknown country \u201c%(value)s\u201d.", value=country)))
        country = code

    phone = get("phone") or None
    if phone:
        try:
            phone = normalise_phone(phone, country)
        except ValidationError as exc:
            errors.append(f"{phone}: {exc.args[0]}")

    language = get("language") or None
    if language:
        language = _languages().get(norm(language), "other")

    municipality = ctx.default_municipality
    if get("municipality"):
        municipality = ctx.municipalities.get(norm(get("municipality")))
        if municipality is None:
            errors.append(
                str(
                    _l(
                        "Unknown municipality \u201c%(value)s\u201d: give one of the ten by "
                        "name or code.",
                        value=get("municipality"),
                    )
                )
            )
    unknown = bool(get("municipality")) and municipality is None
    if not unknown and ctx.allowed is not None and municipality not in ctx.allowed:
        errors.append(
            str(
                _l(
                    "You can import only into your municipalities (%(names)s).",
                    names=", ".join(sorted(ctx.names[c] for c in ctx.allowed)),
                )
            )
        )
    others = []
    for name in filter(None, SPLIT_NAMES.split(get("other_municipalities"))):
        code = ctx.municipalities.get(norm(name))
        if code is None:
            errors.append(
                str(
                    _l(
                        "Unknown municipality \u201c%(value)s\u201d: give one of the ten by "
                        "name or code.",
                        value=name,
                    )
                )
            )
        elif code != municipality:
            others.append(code)

    source, source_detail = ctx.default_source, get("source_detail") or None
    if get("source"):
        source = ctx.sources.get(norm(get("source")))
        if source is None:
            source, source_detail = Source.OTHER, source_detail or get("source")[:200]

    if get("stage"):
        stage = ctx.stages.get(norm(get("stage")))
        if stage is None:
            errors.append(str(_l("Unknown stage \u201c%(value)s\u201d.", value=get("stage"))))
        else:
            row.stage = stage
    if get("close_reason"):
        row.close_reason = ctx.reasons.get(norm(get("close_reason")))
        if row.close_reason is None:
            errors.append(
                str(
                    _l(
                        "Unknown reason for closing \u201c%(value)s\u201d.",
                        value=get("close_reason"),
                    )
                )
            )
    elif row.stage == Stage.CLOSED:
        errors.append(str(_l("Closing a household needs a reason.")))

    first, last = get("first_name")[:80], get("last_name")[:80] or None
    persons = [{"kind": "adult", "first_name": first, "last_name": last}] if first else []
    adults = _people(get("adults"), "adult", last, errors)
    if persons and adults and get("adults").isdigit():
        adults = adults[1:]  # the count includes the named contact
    elif persons:
        adults = [a for a in adults if (a["first_name"], a["last_name"]) != (first, last)]
    persons += adults + _people(get("children"), "child", last, errors)
    if len(persons) > MAX_PERSONS:
        errors.append(str(_l("At most %(n)d members per household.", n=MAX_PERSONS)))

    name = get("name") or " ".join(p for p in (first, last) if p)
    if not name and persons and persons[0]["first_name"] != "?":
        name = " ".join(p for p in (persons[0]["first_name"], persons[0]["last_name"]) if p)
    if not name:
        errors.append(
            str(_l("A household needs a name: map a name column, or first and last name."))
        )
    if errors:
        return row
    row.data = HouseholdData(
        fields={
            "name": name[:160],
            "email": email,
            "phone": phone,
            "country": country,
            "town": get("town") or None,
            "language": language,
            "primary_municipality_code": municipality,
            "source": source,
            "source_detail": source_detail,
            "notes": get("notes") or None,
        },
        persons=persons,
        other_municipalities=others,
        tags=[],
    )
    return row
