"""The rows per household and municipality the pipeline figures read stay what the
households, their members and their stage history say, whatever path changed them:
creation, stage changes, edits of the municipalities, the source and the members, a merge,
an import and its undo, deleting a household. Exactly one row per household is counted."""

import importlib.util
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import delete, select, text

from lotsen.extensions import db
from lotsen.households.merge import merge_households
from lotsen.households.milestones import (
    MUNICIPALITY_COLUMNS,
    household_municipality_milestone,
    municipality_milestones_select,
)
from lotsen.households.models import Household
from lotsen.households.services import change_stage, update_household
from lotsen.households.vocab import CloseReason, Stage
from lotsen.imports.services import run_import, save_mapping, upload
from lotsen.imports.undo import undo_import
from tests import factories

LYCKSELE = factories.LYCKSELE
T = household_municipality_milestone


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


def _value(column, value):
    if isinstance(value, Decimal):  # PostgreSQL's interval arithmetic, before it is stored
        return float(value)
    if value is None or column not in {c for c in MUNICIPALITY_COLUMNS if c.endswith("_at")}:
        return value if not isinstance(value, bool) else bool(value)
    if isinstance(value, str):  # SQLite hands back text from a union
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _rows(query) -> Counter:
    out = Counter()
    for row in db.session.execute(query):
        values = tuple(_value(c, v) for c, v in zip(MUNICIPALITY_COLUMNS, row, strict=True))
        out[tuple(str(v) if hasattr(v, "value") else v for v in values)] += 1
    return out


def stored() -> Counter:
    return _rows(select(*(T.c[c] for c in MUNICIPALITY_COLUMNS)))


def from_households() -> Counter:
    query = municipality_milestones_select().subquery()
    return _rows(select(*(query.c[i] for i in range(len(MUNICIPALITY_COLUMNS)))))


def assert_consistent():
    db.session.flush()
    rows = stored()
    assert rows == from_households()
    counted = Counter(r[0] for r, n in rows.items() for _ in range(n) if r[2])
    households = db.session.scalars(select(Household.id)).all()
    assert counted == Counter(households)  # each household counted exactly once


def rows_of(household) -> dict:
    db.session.flush()
    return {
        code: (counted, str(stage), adults, children)
        for code, counted, stage, adults, children in db.session.execute(
            select(T.c.municipality_code, T.c.counted, T.c.stage, T.c.adults, T.c.children).where(
                T.c.household_id == household.id
            )
        )
    }


def test_rows_follow_municipalities_members_and_stages(app_ctx, region):
    g = region.norsjo_guide
    h = factories.household(guide=g, others=[factories.MALA], at=at("2026-01-10"))
    assert rows_of(h) == {
        factories.NORSJO: (True, "new", 1, 1),
        factories.MALA: (False, "new", 1, 1),
    }
    change_stage(h, Stage.MOVED_IN, g, at=at("2026-02-01"))
    change_stage(h, Stage.DECIDED, g, at=at("2026-02-10"))  # back
    assert {c: r[1] for c, r in rows_of(h).items()} == {
        factories.NORSJO: "decided",
        factories.MALA: "decided",
    }
    assert_consistent()

    # another primary municipality, another one of interest, a child more, an adult a child
    persons = [
        {"kind": "child", "first_name": "Sanne", "birth_year": 2015},
        {"kind": "child", "first_name": "Noah", "birth_year": 2018},
        {"kind": "child", "first_name": "Ida", "birth_year": 2020},
    ]
    data = factories.household_data(municipality=LYCKSELE, others=[factories.NORSJO])
    data.persons = persons
    update_household(h, data, g)
    assert rows_of(h) == {
        LYCKSELE: (True, "decided", 0, 3),
        factories.NORSJO: (False, "decided", 0, 3),
    }
    assert_consistent()

    # only a member's kind changes
    data = factories.household_data(municipality=LYCKSELE, others=[factories.NORSJO])
    data.persons = [dict(persons[0], kind="adult"), *persons[1:]]
    update_household(h, data, g)
    assert rows_of(h)[LYCKSELE] == (True, "decided", 1, 2)
    assert_consistent()

    change_stage(h, Stage.CLOSED, g, close_reason=CloseReason.PERSONAL, at=at("2026-03-01"))
    assert_consistent()


def test_merge_gives_the_kept_household_both_municipalities_and_members(app_ctx, region):
    g = region.norsjo_guide
    keep = factories.household(guide=g, name="Familjen Berg", at=at("2026-03-01"))
    other = factories.household(
        factories.MALA, guide=g, name="Familjen Berg", others=[LYCKSELE], at=at("2026-01-05")
    )
    change_stage(other, Stage.CONTACTED, g, at=at("2026-01-20"))
    other_id = other.id

    merge_households(keep, other, g)

    rows = rows_of(keep)
    assert rows == {
        factories.NORSJO: (True, "new", 2, 2),
        factories.MALA: (False, "new", 2, 2),
        LYCKSELE: (False, "new", 2, 2),
    }
    assert not db.session.execute(select(T).where(T.c.household_id == other_id)).first()
    assert_consistent()


def test_import_undo_and_delete_keep_the_rows(app_ctx, region):
    guide = region.norsjo_guide
    content = "Namn;E-post;Kommun;Steg\n" + "".join(
        f"Familjen Norr {i};norr{i}@example.se;Norsjö;{stage}\n"
        for i, stage in enumerate(["Ny", "Planering", "Inflyttad"])
    )
    batch = upload(guide, "lista.csv", content.encode())
    save_mapping(batch, guide, ["name", "email", "municipality", "stage"], {})
    assert run_import(batch, guide)["created"] == 3
    assert_consistent()
    assert undo_import(batch, guide) == (3, 0)
    assert_consistent()

    h = factories.household(guide=guide, others=[factories.MALA])
    db.session.delete(h)
    db.session.flush()
    assert_consistent()


def test_migration_fills_the_rows_from_households_and_milestones(app_ctx, region):
    g = region.norsjo_guide
    h = factories.household(guide=g, others=[factories.MALA], at=at("2026-01-10"))
    change_stage(h, Stage.VISIT, g, at=at("2026-02-01"))
    factories.household(LYCKSELE, guide=g, at=at("2026-03-01"))
    db.session.flush()
    expected = stored()
    path = Path(__file__).parent.parent / "migrations/versions/0025_p14.py"
    spec = importlib.util.spec_from_file_location("municipality_rows_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    db.session.execute(delete(T))
    postgres = db.engine.dialect.name == "postgresql"

    db.session.execute(text(migration.fill(postgres)))

    assert stored() == expected
    assert_consistent()
