"""The per-household milestone rows the pipeline figures read stay what the stage history
says, whatever path wrote the history: creation, stage changes back and forth (also with
moments in the past), a merge, an import and its undo."""

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, select, text

from lotsen.extensions import db
from lotsen.households.merge import merge_households
from lotsen.households.milestones import COLUMNS, HouseholdMilestone, milestones_select
from lotsen.households.models import Household
from lotsen.households.services import change_stage, update_household
from lotsen.households.vocab import CloseReason, Source, Stage
from lotsen.imports.services import run_import, save_mapping, upload
from lotsen.imports.undo import undo_import
from lotsen.pipeline.history import stage_on
from tests import factories


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


def stored() -> dict[int, tuple]:
    m = HouseholdMilestone
    rows = db.session.execute(select(*(getattr(m, c) for c in COLUMNS))).all()
    return {r[0]: tuple(r) for r in rows}


def from_history() -> dict[int, tuple]:
    query = milestones_select().subquery()
    rows = db.session.execute(
        select(*(query.c[i] for i in range(len(COLUMNS)))).select_from(query)
    ).all()
    # the same values as the stored row: aware UTC datetimes, the stage as a Stage
    out = {}
    for hid, *moments, last_stage, source in rows:
        moments = [None if v is None else _utc(v) for v in moments]
        source = Source(source) if source else None
        out[hid] = (hid, *moments, Stage(last_stage) if last_stage else None, source)
    return out


def _utc(value):
    if isinstance(value, str):  # SQLite hands back text from an aggregate
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def assert_consistent():
    db.session.flush()
    assert stored() == from_history()


def milestone(household) -> HouseholdMilestone:
    db.session.expire_all()
    return db.session.get(HouseholdMilestone, household.id)


def test_milestones_follow_stage_changes_back_and_forth(app_ctx, region):
    g = region.norsjo_guide
    h = factories.household(guide=g, at=at("2026-01-10"))
    m = milestone(h)
    assert (m.interest_at, m.contacted_at, m.last_stage) == (at("2026-01-10"), None, Stage.NEW)

    change_stage(h, Stage.PLANNING, g, at=at("2026-02-01"))  # straight past Contacted
    change_stage(h, Stage.MOVED_IN, g, at=at("2026-03-01"))
    change_stage(h, Stage.DECIDED, g, at=at("2026-03-10"))  # back
    change_stage(h, Stage.MOVED_IN, g, at=at("2026-04-01"))  # and forth
    m = milestone(h)
    assert m.contacted_at == m.planning_at == at("2026-02-01")
    assert m.visit_at == m.decided_at == m.moved_in_at == at("2026-03-01")  # the first arrival
    assert (m.last_at, m.last_stage, m.closed_at) == (at("2026-04-01"), Stage.MOVED_IN, None)

    change_stage(h, Stage.CLOSED, g, close_reason=CloseReason.PERSONAL, at=at("2026-05-01"))
    # an entry recorded later for an earlier moment (as an import does) is not the latest
    change_stage(h, Stage.VISIT, g, at=at("2026-04-15"))
    m = milestone(h)
    assert m.closed_at == at("2026-05-01")
    assert (m.last_at, m.last_stage) == (at("2026-05-01"), Stage.CLOSED)
    assert m.moved_in_at == at("2026-03-01")
    assert_consistent()


def test_merge_gives_the_kept_household_both_histories(app_ctx, region):
    g = region.norsjo_guide
    keep = factories.household(guide=g, name="Familjen Berg", at=at("2026-03-01"))
    other = factories.household(guide=g, name="Familjen Berg", at=at("2026-01-05"))
    change_stage(other, Stage.CONTACTED, g, at=at("2026-01-20"))
    change_stage(other, Stage.VISIT, g, at=at("2026-02-10"))
    change_stage(keep, Stage.CONTACTED, g, at=at("2026-03-05"))
    other_id = other.id

    merge_households(keep, other, g)

    m = milestone(keep)
    assert m.interest_at == at("2026-01-05")  # the earlier of the two registrations
    assert m.contacted_at == at("2026-01-20")
    assert m.visit_at == at("2026-02-10")
    assert (m.last_at, m.last_stage) == (at("2026-03-05"), Stage.CONTACTED)
    assert db.session.get(HouseholdMilestone, other_id) is None
    assert_consistent()


def test_import_writes_milestones_and_undo_removes_them(app_ctx, region):
    guide = region.norsjo_guide
    content = "Namn;E-post;Kommun;Steg\n" + "".join(
        f"Familjen Norr {i};norr{i}@example.se;Norsjö;{stage}\n"
        for i, stage in enumerate(["Ny", "Planering", "Inflyttad"])
    )
    batch = upload(guide, "lista.csv", content.encode())
    save_mapping(batch, guide, ["name", "email", "municipality", "stage"], {})
    assert run_import(batch, guide)["created"] == 3
    ids = [r.household_id for r in batch.results]
    stages = [milestone(db.session.get(Household, i)).last_stage for i in ids]
    assert stages == [Stage.NEW, Stage.PLANNING, Stage.MOVED_IN]
    assert milestone(db.session.get(Household, ids[2])).contacted_at is not None
    assert_consistent()

    assert undo_import(batch, guide) == (3, 0)

    assert not set(stored()) & set(ids)
    assert_consistent()


def test_deleting_a_household_deletes_its_milestones(app_ctx, region):
    h = factories.household(guide=region.norsjo_guide)
    hid = h.id
    db.session.delete(h)
    db.session.flush()
    assert db.session.get(HouseholdMilestone, hid) is None
    assert_consistent()


def test_stage_on_a_past_day_from_milestones_is_what_the_history_says(app_ctx, region):
    g = region.norsjo_guide
    straight = factories.household(guide=g, at=at("2026-01-10"))
    for stage, day in [("contacted", "2026-01-20"), ("visit", "2026-02-10")]:
        change_stage(straight, stage, g, at=at(day))
    winding = factories.household(guide=g, at=at("2026-01-12"))
    moves = [("planning", "2026-01-25"), ("contacted", "2026-02-05"), ("decided", "2026-03-01")]
    for stage, day in moves:
        change_stage(winding, stage, g, at=at(day))
    change_stage(winding, Stage.CLOSED, g, close_reason=CloseReason.PERSONAL, at=at("2026-03-09"))
    db.session.flush()
    days = ["2026-01-01", "2026-01-11", "2026-01-15", "2026-01-21", "2026-01-30", "2026-02-06"]
    days += ["2026-02-11", "2026-03-02", "2026-03-10"]
    for day in days:
        moment = datetime.fromisoformat(day).replace(tzinfo=UTC)
        query = (
            select(
                Household.id,
                stage_on(moment, milestones=True),
                stage_on(moment),
            )
            .outerjoin(HouseholdMilestone, HouseholdMilestone.household_id == Household.id)
            .order_by(Household.id)
        )
        for _hid, summary, history in db.session.execute(query):
            assert (summary and Stage(summary)) == (history and Stage(history)), day


def test_migration_fills_milestones_from_the_existing_history(app_ctx, region):
    g = region.norsjo_guide
    h = factories.household(guide=g, at=at("2026-01-10"))
    for stage, day in [("visit", "2026-02-01"), ("contacted", "2026-02-15")]:
        change_stage(h, stage, g, at=at(day))
    factories.household(guide=g, at=at("2026-03-01"))
    db.session.flush()
    expected = stored()
    path = Path(__file__).parent.parent / "migrations/versions/0020_pipeline_milestones.py"
    spec = importlib.util.spec_from_file_location("milestones_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    db.session.execute(delete(HouseholdMilestone))

    db.session.execute(text(migration.FILL))

    assert stored() == expected
    assert expected[h.id][COLUMNS.index("straight_until")] == at("2026-02-15")


def test_editing_the_source_updates_milestones(app_ctx, region):
    g = region.norsjo_guide
    h = factories.household(guide=g, source="fair")
    assert milestone(h).source == Source.FAIR

    update_household(h, factories.household_data(source="website"), g)

    assert milestone(h).source == Source.WEBSITE
    assert_consistent()
