"""The board, the exports and the weekly summary, on the hand-made history of
test_pipeline.py."""

import csv
import io
import re
from datetime import date, datetime

from openpyxl import load_workbook
from sqlalchemy import select

from lotsen import jobs
from lotsen.extensions import db
from lotsen.followups.services import create_followup
from lotsen.households.models import Household, StageChange
from lotsen.notifications.models import OutboxMessage
from lotsen.pipeline.models import ExportLog
from lotsen.workdays import STOCKHOLM
from tests import factories
from tests.test_pipeline import at, dataset  # noqa: F401  (the fixture)


def test_guide_moves_a_household_on_the_board(dataset, login_as):  # noqa: F811
    guide, c = dataset["region"].mala_guide, dataset["c"]
    client = login_as(guide)
    board = client.get("/pipeline/board").get_data(as_text=True)
    assert "C Claessen" in board and "A Andersson" not in board  # Norsjö's is not hers
    response = client.post(f"/pipeline/board/{c.id}/move", data={"stage": "planning"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/pipeline/board#card-{c.id}")
    assert db.session.get(Household, c.id).stage == "planning"
    last = db.session.scalars(
        select(StageChange).where(StageChange.household_id == c.id).order_by(StageChange.id.desc())
    ).first()
    assert (last.from_stage, last.to_stage, last.by_id) == ("contacted", "planning", guide.id)


def test_closing_on_the_board_needs_a_reason(dataset, login_as):  # noqa: F811
    c = dataset["c"]
    dataset["region"].mala_guide.locale = "en"
    db.session.commit()
    client = login_as(dataset["region"].mala_guide)
    response = client.post(f"/pipeline/board/{c.id}/move", data={"stage": "closed"})
    assert response.status_code == 400
    assert "Closing a household needs a reason." in response.get_data(as_text=True)
    assert db.session.get(Household, c.id).stage == "contacted"
    response = client.post(
        f"/pipeline/board/{c.id}/move", data={"stage": "closed", "close_reason": "no_housing"}
    )
    assert response.status_code == 302
    assert db.session.get(Household, c.id).close_reason == "no_housing"


def test_guide_cannot_move_a_household_outside_her_scope(dataset, login_as):  # noqa: F811
    a = dataset["a"]
    client = login_as(dataset["region"].mala_guide)
    assert client.post(f"/pipeline/board/{a.id}/move", data={"stage": "new"}).status_code == 404
    assert db.session.get(Household, a.id).stage == "moved_in"


def test_coordinator_exports_the_filtered_list_without_contact_details(dataset, login_as):  # noqa: F811
    client = login_as(dataset["region"].coordinator)
    args = "reached=moved_in&since=2026-04-01&until=2026-06-30"
    response = client.get(f"/pipeline/export?format=csv&{args}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(
        csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    names = sorted(r[1] for r in rows[1:])
    assert names == ["B Bakker", "D de Vries"]
    assert len(rows[0]) == 15  # every field but e-mail and phone
    assert "family" not in response.get_data(as_text=True)  # no e-mail address
    log = db.session.scalars(select(ExportLog)).one()
    assert (log.kind, log.format, log.rows, log.filters["reached"]) == (
        "households",
        "csv",
        2,
        "moved_in",
    )


def test_guide_exports_xlsx_of_her_households_with_contact_details(dataset, login_as):  # noqa: F811
    guide = dataset["region"].mala_guide
    client = login_as(guide)
    response = client.get("/pipeline/export?format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows[0]) == 17
    assert sorted(r[1] for r in rows[1:]) == ["B Bakker", "C Claessen", "E Eriksson"]
    assert all("@example.nl" in r[15] for r in rows[1:])
    assert db.session.scalars(select(ExportLog.user_id)).one() == guide.id


def test_quarterly_report_page_and_export(dataset, login_as):  # noqa: F811
    client = login_as(dataset["region"].coordinator)
    page = client.get("/pipeline/report?year=2026&quarter=2").get_data(as_text=True)
    assert "Inflyttade, 2026 kv2" in page
    region_row = re.search(r'<tr class="total">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r'class="num">(\d+)<', region_row) == ["2", "2", "3", "5"]
    response = client.get("/pipeline/report/export?year=2026&quarter=2&format=xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    by_name = {r[1]: r[2:] for r in rows[1:]}
    assert by_name["Norsjö"] == (1, 1, 2, 3)
    assert by_name["Malå"] == (1, 1, 2, 3)
    assert by_name["Lycksele"] == (1, 1, 1, 2)
    assert by_name["Arjeplog"] == (0, 0, 0, 0)
    region = next(r for r in rows if r[0] in ("Region", "Regionen"))
    assert region[2:] == (2, 2, 3, 5)  # B (in two municipalities) once
    assert rows[-1][2] == 87.5
    assert db.session.scalars(select(ExportLog.kind)).one() == "funder_report"
    assert client.get("/pipeline/report?year=1&quarter=9").status_code == 400


def local(day: str, hour=7) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=STOCKHOLM)


def test_weekly_summary_on_the_first_working_day_of_the_week(dataset):  # noqa: F811
    coordinator = dataset["region"].coordinator
    coordinator.locale = "en"
    factories.household(factories.MALA, name="F Fischer", at=at("2026-04-08"))
    create_followup(dataset["c"], due_on=date(2026, 4, 1), by=dataset["region"].mala_guide)
    db.session.commit()
    assert jobs.run("weekly-summary", now=local("2026-04-06")) == 0  # Easter Monday
    assert jobs.run("weekly-summary", now=local("2026-04-07")) == 1  # so Tuesday
    assert jobs.run("weekly-summary", now=local("2026-04-08")) == 0
    assert jobs.run("weekly-summary", now=local("2026-04-13")) == 1
    assert jobs.run("weekly-summary", now=local("2026-04-13", 9)) == 0  # once a week
    mails = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [m.to_address for m in mails] == [coordinator.email] * 2  # not to guides
    body = mails[1].body
    assert "week 2026-04-06 – 2026-04-12" in body
    assert "New interests: 1\n" in body
    assert "reached=new&since=2026-04-06&until=2026-04-12" in body
    assert "- Moved in: 1\n" in body  # B's first arrival
    assert "Moved in: 1 households, 1 adults, 2 children" in body
    assert "- Sara Malå: 1\n" in body and "/households?overdue=" in body
    assert "/pipeline?since=2026-04-06&until=2026-04-12" in body
    assert mails[1].subject.startswith("Lotsen week 15: 1 new interests, 1 households moved in")
    assert "- Contacted: 1" in mails[0].body  # C reopened on 1 April
