"""CSV import of listings and job openings: parse and check every row (the preview), then
save the valid ones. Rows are keyed by ``external_id``: importing the same file again
updates the same listings and jobs and doubles nothing.

Accepts comma or semicolon separated files (Swedish spreadsheets save with ";"), UTF-8 or
Windows-1252, column names in English or Swedish, municipality as code or name.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from lotsen.access import can_change_municipal
from lotsen.accounts.models import User
from lotsen.extensions import db
from lotsen.households.search import normalise
from lotsen.matching.models import JobOpening, Listing
from lotsen.matching.services import JOB_FIELDS, LISTING_FIELDS, save_job, save_listing
from lotsen.matching.vocab import (
    Extent,
    JobSource,
    JobStatus,
    ListingStatus,
    ListingTenure,
    ListingType,
)
from lotsen.regions.models import municipality_refs

MAX_ROWS = 5000

ALIASES = {  # normalised header or value -> our name
    "id": "external_id",
    "externt id": "external_id",
    "external id": "external_id",
    "kommun": "municipality",
    "rubrik": "title",
    "titel": "title",
    "omrade": "area",
    "by": "area",
    "adress": "address",
    "upplatelseform": "tenure",
    "typ": "type",
    "rum": "rooms",
    "boarea": "living_area",
    "hyra": "rent",
    "pris": "price",
    "ledig fran": "available_from",
    "kontakt": "contact",
    "hyresvard": "contact",
    "lank": "url",
    "link": "url",
    "arbetsgivare": "employer",
    "yrke": "occupation",
    "ssyk": "ssyk_code",
    "omfattning": "extent",
    "anstallningsform": "employment_type",
    "sista ansokningsdag": "last_application_date",
    "deadline": "last_application_date",
}
VALUES = {
    "tenure": {"hyra": "rent", "kop": "buy", "kopa": "buy", "andrahand": "sublet"},
    "type": {
        "lagenhet": "apartment",
        "hus": "house",
        "villa": "house",
        "gard": "farm",
        "rum": "room",
    },
    "extent": {
        "heltid": "full_time",
        "deltid": "part_time",
        "full time": "full_time",
        "part time": "part_time",
    },
    "status": {
        "ledig": "available",
        "reserverad": "reserved",
        "uthyrd": "taken",
        "sald": "taken",
        "arkiverad": "archived",
        "oppen": "open",
    },
}
KINDS = {
    "listings": {
        "model": Listing,
        "fields": LISTING_FIELDS,
        "required": ("external_id", "municipality", "title", "tenure", "type"),
        "ints": ("rooms", "living_area", "rent", "price"),
        "dates": ("available_from",),
        "enums": {"tenure": ListingTenure, "type": ListingType, "status": ListingStatus},
    },
    "jobs": {
        "model": JobOpening,
        "fields": JOB_FIELDS,
        "required": ("external_id", "municipality", "title"),
        "ints": (),
        "dates": ("last_application_date",),
        "enums": {"extent": Extent, "status": JobStatus},
    },
}


@dataclass
class Row:
    line: int
    data: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    action: str = ""  # new, update, unchanged, error
    existing: Any = None


@dataclass
class Report:
    kind: str
    rows: list[Row] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # about the file as a whole

    @property
    def valid(self) -> list[Row]:
        return [r for r in self.rows if not r.errors]

    @property
    def invalid(self) -> list[Row]:
        return [r for r in self.rows if r.errors]

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)


def _key(name: str) -> str:
    n = normalise(name).strip().replace("_", " ")
    return ALIASES.get(n, n.replace(" ", "_"))


def _municipalities() -> dict[str, str]:
    refs = municipality_refs()
    return {r.code: r.code for r in refs} | {normalise(r.name): r.code for r in refs}


def parse(kind: str, text: str, user: User | None) -> Report:
    """Read and check every row; nothing is saved."""
    spec = KINDS[kind]
    report = Report(kind)
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [_key(h) for h in next(reader)]
    except StopIteration:
        report.errors.append(_("The file is empty."))
        return report
    except csv.Error:
        report.errors.append(_("This is not a CSV file."))
        return report
    missing = [c for c in spec["required"] if c not in header]
    if missing:
        report.errors.append(_("Missing columns: %(names)s", names=", ".join(missing)))
        return report
    known = {*spec["fields"], "external_id", "municipality"}
    municipalities = _municipalities()
    seen: set[str] = set()
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(report.rows) >= MAX_ROWS:
                report.errors.append(_("Only the first %(n)d rows are read.", n=MAX_ROWS))
                break
            row = Row(reader.line_num)
            raw = {h: v.strip() for h, v in zip(header, values, strict=False) if h in known}
            _check(row, raw, spec, municipalities, user)
            ext = row.data.get("external_id")
            if ext and ext in seen:
                row.errors.append(_("The external id %(id)s appears twice in the file.", id=ext))
            seen.add(ext)
            report.rows.append(row)
    except csv.Error as exc:
        report.errors.append(
            _(
                "The file cannot be read after line %(n)d: %(error)s",
                n=reader.line_num,
                error=str(exc),
            )
        )
    _compare_existing(report, spec, user)
    return report


def _check(row: Row, raw: dict, spec, municipalities, user) -> None:
    data = row.data
    for name in spec["required"]:
        if not raw.get(name):
            row.errors.append(_("%(column)s is missing.", column=name))
    code = municipalities.get(normalise(raw.get("municipality", "")))
    if raw.get("municipality") and code is None:
        row.errors.append(_("Unknown municipality: %(name)s", name=raw["municipality"]))
    elif code and user is not None and not can_change_municipal(user, code):
        row.errors.append(
            _("%(name)s is not one of your municipalities.", name=raw["municipality"])
        )
    data["municipality_code"] = code
    for name, value in raw.items():
        if name in ("municipality",) or not value:
            continue
        if name in spec["ints"]:
            digits = value.replace(" ", "").replace("\u00a0", "")
            if not digits.isdigit():
                row.errors.append(
                    _("%(column)s must be a whole number: %(value)s", column=name, value=value)
                )
                continue
            data[name] = int(digits)
        elif name in spec["dates"]:
            try:
                data[name] = date.fromisoformat(value)
            except ValueError:
                row.errors.append(
                    _(
                        "%(column)s must be a date like 2027-03-01: %(value)s",
                        column=name,
                        value=value,
                    )
                )
        elif name in spec["enums"]:
            word = normalise(value)
            word = VALUES.get(name, {}).get(word, word)
            try:
                data[name] = spec["enums"][name](word)
            except ValueError:
                allowed = ", ".join(m.value for m in spec["enums"][name])
                row.errors.append(
                    _(
                        "%(column)s must be one of %(allowed)s: %(value)s",
                        column=name,
                        allowed=allowed,
                        value=value,
                    )
                )
        elif name == "ssyk_code" and not (value.isdigit() and len(value) == 4):
            row.errors.append(_("ssyk_code must be four digits: %(value)s", value=value))
        elif name == "url" and not value.startswith(("http://", "https://")):
            row.errors.append(_("url must start with http:// or https://: %(value)s", value=value))
        else:
            data[name] = value[:200] if name != "url" else value[:500]


def _compare_existing(report: Report, spec, user) -> None:
    model = spec["model"]
    ids = [r.data["external_id"] for r in report.rows if r.data.get("external_id")]
    stmt = select(model).where(model.external_id.in_(ids))
    if model is JobOpening:
        stmt = stmt.where(JobOpening.source == JobSource.IMPORT)
    existing = {x.external_id: x for x in db.session.scalars(stmt)} if ids else {}
    for row in report.rows:
        current = existing.get(row.data.get("external_id"))
        if (
            current is not None
            and user is not None
            and not can_change_municipal(user, current.municipality_code)
        ):
            row.errors.append(
                _(
                    "The external id %(id)s belongs to another municipality's entry.",
                    id=row.data["external_id"],
                )
            )
        if row.errors:
            row.action = "error"
        elif current is None:
            row.action = "new"
        else:
            row.existing = current
            same = all(getattr(current, k) == v for k, v in row.data.items())
            row.action = "unchanged" if same else "update"


def apply(report: Report, by: User | None) -> dict[str, int]:
    """Save the valid rows of a checked file."""
    for row in report.valid:
        if row.action == "unchanged":
            continue
        data = dict(row.data)
        if report.kind == "listings":
            save_listing(data, by, row.existing)
        else:
            save_job(data | {"source": JobSource.IMPORT}, by, row.existing)
    return {
        "new": report.count("new"),
        "update": report.count("update"),
        "unchanged": report.count("unchanged"),
        "error": report.count("error"),
    }
