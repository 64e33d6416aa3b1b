"""Import rules: upload, mapping, preview plan, import, undo. Services only flush."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, union_all, update

from lotsen.access import household_scope, importable_municipalities
from lotsen.accounts.models import Role, User
from lotsen.db import utcnow
from lotsen.extensions import db
from lotsen.households.models import (
    Household,
    HouseholdEvent,
    StageChange,
)
from lotsen.households.services import change_stage, create_household
from lotsen.households.vocab import EventKind, Stage
from lotsen.imports.files import read_file
from lotsen.imports.models import ImportBatch, ImportMapping, ImportRow
from lotsen.imports.rows import FIELDS, Context, ParsedRow, guess_mapping, norm, parse_row
from lotsen.regions.models import municipality_refs

ACTIONS = ("skip", "attach", "create")
OUTCOMES = ("created", "attached", "skipped", "invalid")
CHUNK = 500


class ImportError_(ValueError):  # noqa: N801  (the builtin ImportError means something else)
    """An import rule was broken; the message is shown to the user."""


@dataclass
class RowPlan:
    """What the import will do with a row, as the preview shows it."""

    row: ParsedRow
    status: str  # new, invalid, imported (before), duplicate (of a household), file_duplicate
    target_id: int | None = None
    target_name: str | None = None
    earlier: int | None = None  # the earlier row of the file with the same e-mail or phone

    @property
    def needs_choice(self) -> bool:
        return self.status in ("duplicate", "file_duplicate")


def chunked(values: Iterable, size: int = CHUNK) -> Iterator[list]:
    values = sorted(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def upload(user: User, filename: str, content: bytes, now: datetime | None = None) -> ImportBatch:
    """Read the file (FileError if it cannot be) and keep it as a draft with a guessed mapping."""
    sheet = read_file(filename, content)
    remembered = db.session.get(ImportMapping, user.id)
    batch = ImportBatch(
        user_id=user.id,
        filename=(filename or "import")[-200:],
        file_hash=sheet.file_hash,
        header=sheet.header,
        rows=sheet.rows,
        mapping={"columns": guess_mapping(sheet.header, remembered.mapping if remembered else {})},
        options={
            "municipality": user.municipality_code if user.role == Role.GUIDE else None,
            "source": None,
        },
        created_at=now or utcnow(),
    )
    db.session.add(batch)
    db.session.flush()
    return batch


def earlier_imports(batch: ImportBatch) -> list[ImportBatch]:
    """Imports of the same file before this one that still stand."""
    return list(
        db.session.scalars(
            select(ImportBatch)
            .where(
                ImportBatch.file_hash == batch.file_hash,
                ImportBatch.id != batch.id,
                ImportBatch.status.in_(("done", "partly_undone")),
            )
            .order_by(ImportBatch.id)
        )
    )


def save_mapping(batch: ImportBatch, user: User, columns: list[str], options: dict) -> None:
    """Use ``columns`` (a field or "" per column) for this batch and remember them."""
    if batch.status != "draft":
        raise ImportError_(_l("This file has been imported already."))
    chosen = [c for c in columns if c]
    if len(chosen) != len(set(chosen)):
        raise ImportError_(_l("Each field can be chosen for one column only."))
    if not chosen:
        raise ImportError_(_l("Choose at least one column to import."))
    batch.mapping = {"columns": columns}
    batch.options = options
    remembered = db.session.get(ImportMapping, user.id)
    if remembered is None:
        remembered = ImportMapping(user_id=user.id, mapping={})
        db.session.add(remembered)
    learned = dict(remembered.mapping)
    learned.update({norm(t): f for t, f in zip(batch.header, columns, strict=True) if norm(t)})
    remembered.mapping = learned
    db.session.flush()


def context_for(user: User, options: dict | None) -> Context:
    refs = municipality_refs()
    lookup = {norm(m.name): m.code for m in refs} | {m.code: m.code for m in refs}
    options = options or {}
    default = options.get("municipality") or None
    if default is None and user.role == Role.GUIDE:
        default = user.municipality_code  # a guide has no regional inbox to import into
    return Context(
        municipalities=lookup,
        names={m.code: m.name for m in refs},
        allowed=importable_municipalities(user),
        default_municipality=default,
        default_source=options.get("source") or None,
    )


def plan_import(batch: ImportBatch, user: User) -> list[RowPlan]:
    """Check every row and find duplicates: of households the user can see (by e-mail or
    phone), of earlier rows of the file, and rows an earlier import decided already (by
    row key: created, attached or skipped), which are not decided again."""
    ctx = context_for(user, batch.options)
    columns = (batch.mapping or {}).get("columns", [])
    parsed = [parse_row(i + 2, cells, columns, ctx) for i, cells in enumerate(batch.rows)]

    imported_before: dict[str, int | None] = {}
    for chunk in chunked({p.key for p in parsed}):
        for key, household_id in db.session.execute(
            select(ImportRow.row_key, ImportRow.household_id)
            .join(ImportBatch, ImportBatch.id == ImportRow.batch_id)
            .where(
                ImportRow.row_key.in_(chunk),
                ImportRow.outcome.in_(("created", "attached", "skipped")),
                ImportRow.undone.is_(False),
                ImportBatch.status.in_(("done", "partly_undone")),
                ImportBatch.id != batch.id,
            )
        ):
            imported_before.setdefault(key, household_id)

    by_email: dict[str, tuple[int, str]] = {}
    by_phone: dict[str, tuple[int, str]] = {}
    scope = household_scope(user)
    for column, found, values in (
        (Household.email, by_email, {p.email for p in parsed if p.email}),
        (Household.phone, by_phone, {p.phone for p in parsed if p.phone}),
    ):
        for chunk in chunked(values):
            rows = db.session.execute(
                select(column, Household.id, Household.name)
                .where(column.in_(chunk), scope)
                .order_by(Household.id)
            )
            for value, household_id, name in rows:
                found.setdefault(value, (household_id, name))

    plans: list[RowPlan] = []
    seen_email: dict[str, int] = {}
    seen_phone: dict[str, int] = {}
    for row in parsed:
        if row.errors:
            plans.append(RowPlan(row, "invalid"))
            continue
        if row.key in imported_before:
            plan = RowPlan(row, "imported", target_id=imported_before[row.key])
        elif match := by_email.get(row.email or "") or by_phone.get(row.phone or ""):
            plan = RowPlan(row, "duplicate", target_id=match[0], target_name=match[1])
        elif earlier := seen_email.get(row.email or "") or seen_phone.get(row.phone or ""):
            plan = RowPlan(row, "file_duplicate", earlier=earlier)
        else:
            plan = RowPlan(row, "new")
        if row.email:
            seen_email.setdefault(row.email, row.number)
        if row.phone:
            seen_phone.setdefault(row.phone, row.number)
        plans.append(plan)
    return plans


def summary(plans: list[RowPlan]) -> dict[str, int]:
    counts = dict.fromkeys(("new", "invalid", "imported", "duplicate", "file_duplicate"), 0)
    for plan in plans:
        counts[plan.status] += 1
    return counts


def _attach(household_id: int, plan: RowPlan, batch: ImportBatch, by: User, at) -> int:
    data = plan.row.data
    fields = {k: str(v) for k, v in data.fields.items() if v and k != "notes"}
    event = HouseholdEvent(
        household_id=household_id,
        kind=EventKind.IMPORTED,
        by_id=by.id,
        at=at,
        text=data.fields.get("notes"),
        data={
            "batch": batch.id,
            "file": batch.filename,
            "row": plan.row.number,
            "attached": True,
            "fields": fields,
            "persons": [
                " ".join(filter(None, (p["first_name"], p["last_name"]))) for p in data.persons
            ],
        },
    )
    db.session.add(event)
    db.session.flush()
    return event.id


def _create(plan: RowPlan, batch: ImportBatch, by: User, at) -> tuple[Household, HouseholdEvent]:
    """The household (through the households service) and its timeline entry, which the
    caller adds with all the others at the end: one flush for them, not one each."""
    guide = by if by.role == Role.GUIDE else None
    household = create_household(plan.row.data, by=by, guide=guide, at=at)
    if plan.row.stage != Stage.NEW:
        change_stage(household, plan.row.stage, by, close_reason=plan.row.close_reason, at=at)
    event = HouseholdEvent(
        household_id=household.id,
        kind=EventKind.IMPORTED,
        by_id=by.id,
        at=at,
        data={"batch": batch.id, "file": batch.filename, "row": plan.row.number},
    )
    return household, event


def run_import(
    batch: ImportBatch,
    by: User,
    decisions: dict[int, str] | None = None,
    default: str = "skip",
    now: datetime | None = None,
) -> dict[str, int]:
    """Import the batch: a household per new row, and for each duplicate what ``decisions``
    (row number -> skip, attach or create) or ``default`` says. Returns the outcome counts."""
    now = now or utcnow()
    decisions = decisions or {}
    claimed = db.session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id, ImportBatch.status == "draft")
        .values(status="running")
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise ImportError_(_l("This file has been imported already."))
    plans = plan_import(batch, by)
    resolved: dict[int, int | None] = {}  # row number -> the household it ended up in
    results: list[ImportRow] = []
    created: dict[int, ImportRow] = {}
    events: list[HouseholdEvent] = []
    for plan in plans:
        row = plan.row
        result = ImportRow(batch_id=batch.id, row_number=row.number, row_key=row.key)
        results.append(result)
        if plan.status == "invalid":
            result.outcome, result.message = "invalid", " ".join(row.errors)
            continue
        if plan.status == "imported":
            result.outcome, result.household_id = "skipped", plan.target_id
            result.message = str(_l("Imported before; not imported again."))
            resolved[row.number] = plan.target_id
            continue
        action = "create" if plan.status == "new" else decisions.get(row.number, default)
        target = plan.target_id if plan.status == "duplicate" else resolved.get(plan.earlier)
        if plan.status == "duplicate":
            same = str(_l("Same e-mail or phone as household %(name)s.", name=plan.target_name))
        else:
            same = str(_l("Same e-mail or phone as row %(n)d.", n=plan.earlier or 0))
        if action == "attach" and target is None:
            action = "skip"
        if action == "skip":
            result.outcome, result.household_id, result.message = "skipped", target, same
            resolved[row.number] = target
        elif action == "attach":
            result.event_id = _attach(target, plan, batch, by, now)
            result.outcome, result.household_id = "attached", target
            result.message = same
            resolved[row.number] = target
        else:
            household, event = _create(plan, batch, by, now)
            events.append(event)
            result.outcome, result.household_id = "created", household.id
            result.message = same if plan.needs_choice else None
            created[household.id] = result
            resolved[row.number] = household.id
    db.session.add_all(events)
    db.session.flush()
    history = history_counts(list(created))
    for household_id, version in versions_of(list(created)):
        created[household_id].version = version
        created[household_id].history = history.get(household_id, 0)
    db.session.add_all(results)
    counts = dict.fromkeys(OUTCOMES, 0)
    for result in results:
        counts[result.outcome] += 1
    batch.status, batch.imported_at, batch.counts = "done", now, counts
    db.session.flush()
    return counts


def versions_of(ids: list[int]) -> list[tuple[int, int]]:
    found = []
    for chunk in chunked(ids):
        found += db.session.execute(
            select(Household.id, Household.version).where(Household.id.in_(chunk))
        ).all()
    return [tuple(r) for r in found]


def history_counts(ids: list[int]) -> dict[int, int]:
    """Events and stage changes per household, in one aggregate per chunk."""
    counts: dict[int, int] = {}
    for chunk in chunked(ids):
        both = union_all(
            select(HouseholdEvent.household_id.label("h")).where(
                HouseholdEvent.household_id.in_(chunk)
            ),
            select(StageChange.household_id.label("h")).where(StageChange.household_id.in_(chunk)),
        ).subquery()
        for household_id, n in db.session.execute(
            select(both.c.h, func.count()).group_by(both.c.h)
        ):
            counts[household_id] = n
    return counts


def field_choices() -> list[tuple[str, str]]:
    return [("", _l("- do not import -")), *FIELDS.items()]
