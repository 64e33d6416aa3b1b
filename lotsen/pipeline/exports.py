"""CSV and XLSX downloads of a filtered household list and of the funder report, with only
the fields the user's role may see; every export is logged (export_log)."""

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from lotsen.accounts.models import Role, User
from lotsen.db import end_read
from lotsen.extensions import db
from lotsen.households.models import Household, Person
from lotsen.households.queries import Filters, household_query
from lotsen.households.vocab import PersonKind, label
from lotsen.pipeline.figures import MovedIn
from lotsen.pipeline.models import ExportLog
from lotsen.regions.models import Municipality
from lotsen.workdays import local_date

EXPORT_MAX = 50_000

# Column key: (heading, SQL expression builder). Notes stay out of every export: free text
# belongs on the household page, not in spreadsheets that travel.
_guide = aliased(User)
_members = (
    select(
        Person.household_id,
        func.sum(case((Person.kind == PersonKind.ADULT, 1), else_=0)).label("adults"),
        func.sum(case((Person.kind == PersonKind.CHILD, 1), else_=0)).label("children"),
    )
    .group_by(Person.household_id)
    .subquery("members")
)
COLUMNS = {
    "id": (_l("Number"), Household.id),
    "name": (_l("Household"), Household.name),
    "stage": (_l("Stage"), Household.stage),
    "close_reason": (_l("Reason for closing"), Household.close_reason),
    "municipality": (_l("Municipality"), Municipality.name),
    "guide": (_l("Guide"), _guide.name),
    "source": (_l("Source"), Household.source),
    "mover_kind": (_l("Kind of mover"), Household.mover_kind),
    "country": (_l("Country"), Household.country),
    "language": (_l("Language"), Household.language),
    "adults": (_l("Adults"), func.coalesce(_members.c.adults, 0)),
    "children": (_l("Children"), func.coalesce(_members.c.children, 0)),
    "move_date": (_l("Planned moving date"), Household.move_date),
    "created_at": (_l("Registered"), Household.created_at),
    "last_contact_at": (_l("Last contact"), Household.last_contact_at),
    "email": (_l("E-mail"), Household.email),
    "phone": (_l("Phone"), Household.phone),
}
_ALL = tuple(COLUMNS)
FIELDS_BY_ROLE = {
    # a guide works with the people: contact details included
    Role.GUIDE: _ALL,
    # the coordinator follows the region and reports; contact details are the guide's
    Role.COORDINATOR: tuple(k for k in _ALL if k not in ("email", "phone")),
}
_LABELLED = {"stage", "close_reason", "source", "mover_kind", "language"}


def export_fields(user: User) -> tuple[str, ...]:
    return FIELDS_BY_ROLE.get(user.role, ())


def count_for_export(user: User, f: Filters) -> int:
    stmt = household_query(user, f).with_only_columns(Household.id).order_by(None)
    capped = stmt.limit(EXPORT_MAX + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(capped))


def household_rows(user: User, f: Filters) -> tuple[list[str], Iterable[list]]:
    """Headings and rows (plain values) of the filtered list, in the list's order."""
    fields = export_fields(user)
    stmt = (
        household_query(user, f)
        .with_only_columns(*(COLUMNS[k][1] for k in fields))
        .outerjoin(Municipality, Municipality.code == Household.primary_municipality_code)
        .outerjoin(_guide, _guide.id == Household.guide_id)
        .outerjoin(_members, _members.c.household_id == Household.id)
        .order_by(Household.id)
        .limit(EXPORT_MAX)
    )
    headings = [str(COLUMNS[k][0]) for k in fields]

    def rows():
        for row in db.session.execute(stmt.execution_options(yield_per=1000)):
            yield [_plain(k, v) for k, v in zip(fields, row, strict=True)]

    return headings, rows()


def _plain(key: str, value):
    if value is None:
        return ""
    if key in _LABELLED:
        return label(value)
    if isinstance(value, datetime):
        return local_date(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def report_rows(report, municipalities: dict[str, str]) -> tuple[list[str], list[list]]:
    """The funder report as one table: per municipality, the region, then per source."""
    headings = [
        str(_l("Group")),
        str(_l("Name")),
        str(_l("Households moved in")),
        str(_l("Adults")),
        str(_l("Children")),
        str(_l("Persons")),
    ]
    rows = []
    codes = report.scope.row_codes() or list(municipalities)
    for code in codes:
        m = report.by_municipality.get(code, MovedIn())
        rows.append(
            [
                str(_l("Municipality")),
                municipalities.get(code, code),
                m.households,
                m.adults,
                m.children,
                m.persons,
            ]
        )
    region = report.by_municipality.get(None, MovedIn())
    rows.append(
        [
            str(_l("Region")),
            str(_l("Region 10 (each household once)")),
            region.households,
            region.adults,
            region.children,
            region.persons,
        ]
    )
    for source, m in report.by_source:
        name = label(source) if source else str(_l("Unknown"))
        rows.append([str(_l("Source")), name, m.households, m.adults, m.children, m.persons])
    median = "" if report.median_days is None else report.median_days
    rows.append([str(_l("Median days from first contact to moved in")), "", median, "", "", ""])
    return headings, rows


def to_csv(headings: list[str], rows: Iterable[list]) -> bytes:
    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 (å, ä, ö) correctly only with the BOM
    writer = csv.writer(out, delimiter=";")  # Swedish Excel's list separator
    writer.writerow(headings)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def to_xlsx(title: str, headings: list[str], rows: Iterable[list]) -> bytes:
    from openpyxl import Workbook  # ~5 MB: only a spreadsheet download needs it, not every worker

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    ws.append(headings)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def log_export(user: User, kind: str, fmt: str, filters: dict, rows: int) -> ExportLog:
    from lotsen.audit import audit

    end_read(db.session())  # a download that only read so far (see end_read)
    entry = ExportLog(user_id=user.id, kind=kind, format=fmt, filters=filters, rows=rows)
    db.session.add(entry)
    db.session.flush()
    audit(
        f"export.{kind}",
        by=user,
        target=f"export:{entry.id}",
        changes={"format": fmt, "filters": filters, "rows": rows},
    )
    return entry
